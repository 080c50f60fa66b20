/// What one request sent through the sender's rate machinery came to.
///
/// 429 answers never come back as such (the machinery pauses everyone and sends again, up to a
/// limit); redirects, refused keys and untrusted certificates stop the run (thrown).
enum Exchange: Sendable {
    /// An answer other than 429, 3xx, 401, 402 or 403.
    case answer(APIResponse)
    /// No answer came (transport error, timeout): the request may or may not have been acted on.
    case noAnswer(APIFailure)
    /// The request was rate limited ``SessionSender/maxRateLimitedPerRow`` times.
    case rateLimitedTooOften(APIFailure)
    /// The run is stopping; the request was not sent.
    case interrupted
}
