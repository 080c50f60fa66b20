/// One create request, ready to send.
public struct CreateSessionRequest: Sendable, Equatable {
    /// The applicant's external_id (for logs and fakes; the body carries it too).
    public var externalID: String
    /// The deterministic Idempotency-Key of this logical create.
    public var idempotencyKey: String
    /// The canonical JSON body.
    public var body: [UInt8]

    /// A request with the given values.
    public init(externalID: String, idempotencyKey: String, body: [UInt8]) {
        self.externalID = externalID
        self.idempotencyKey = idempotencyKey
        self.body = body
    }
}

/// What came back from the API for one request: the status, the headers the tool acts on, the body.
public struct APIResponse: Sendable, Equatable {
    /// The HTTP status code.
    public var status: Int
    /// `X-Request-Id`, kept with every failure.
    public var requestID: String?
    /// `Retry-After`, as sent (seconds or an HTTP-date).
    public var retryAfter: String?
    /// `X-RateLimit-Limit`: the key's budget per minute.
    public var rateLimitLimit: Int?
    /// `X-RateLimit-Remaining`.
    public var rateLimitRemaining: Int?
    /// `Location`, where a 3xx points.
    public var location: String?
    /// The response body.
    public var body: [UInt8]

    /// A response with the given values.
    public init(
        status: Int,
        requestID: String? = nil,
        retryAfter: String? = nil,
        rateLimitLimit: Int? = nil,
        rateLimitRemaining: Int? = nil,
        location: String? = nil,
        body: [UInt8] = []
    ) {
        self.status = status
        self.requestID = requestID
        self.retryAfter = retryAfter
        self.rateLimitLimit = rateLimitLimit
        self.rateLimitRemaining = rateLimitRemaining
        self.location = location
        self.body = body
    }
}

/// The part of the Verilock API a run needs. The production one speaks HTTP
/// (``HTTPSessionsAPI``); tests pass a closure-backed fake.
///
/// A thrown error means the request's outcome is unknown (transport failure, timeout): the
/// sender retries it with the same Idempotency-Key.
public protocol SessionsAPI: Sendable {
    /// Sends `POST {base}/sessions`.
    func createSession(_ request: CreateSessionRequest) async throws -> APIResponse
    /// Sends `GET {base}/sessions` with `request`'s query (a lookup: `external_id` and `page`).
    func listSessions(_ request: SessionListRequest) async throws -> APIResponse
    /// Sends `GET {base}/sessions/{id}`.
    func session(id: String) async throws -> APIResponse
}
