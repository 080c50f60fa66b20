/// How a read (a page of sessions, one session's detail) sent through ``SessionSender/fetch(into:_:)``
/// ended.
public enum FetchOutcome: Sendable, Equatable {
    /// A definite answer: a 2xx, or a 4xx that retrying would not change (404, 422, ...).
    case answer(APIResponse)
    /// No definite answer within the attempts (transport errors, timeouts, 5xx, 429s).
    case failed(APIFailure)
    /// The run is stopping; the request was not sent.
    case interrupted
}
