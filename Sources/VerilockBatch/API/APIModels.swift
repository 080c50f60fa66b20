import Foundation

/// A session the API created (201), as the ledger keeps it.
public struct CreatedSession: Sendable, Equatable, Decodable {
    /// `ses_...`
    public var id: String
    /// The SDK token: a bearer secret, stored, never logged.
    public var sessionToken: String?
    /// The hosted-flow link for the mail-merge.
    public var sessionURL: String
    /// The session's status; unknown values are kept as they are.
    public var status: String?
    /// When the link dies (ISO 8601, UTC).
    public var expiresAt: String?

    enum CodingKeys: String, CodingKey {
        case id
        case sessionToken = "session_token"
        case sessionURL = "session_url"
        case status
        case expiresAt = "expires_at"
    }

    /// A session with the given values.
    public init(id: String, sessionToken: String?, sessionURL: String, status: String?, expiresAt: String?) {
        self.id = id
        self.sessionToken = sessionToken
        self.sessionURL = sessionURL
        self.status = status
        self.expiresAt = expiresAt
    }
}

/// A refusal or failure from the API, with what the operator needs to act on it.
public struct APIFailure: Sendable, Equatable {
    /// The HTTP status, or nil when no answer came (transport failure, timeout).
    public var status: Int?
    /// The API's error code (`validation_error`, ...).
    public var code: String?
    /// The API's message, with field errors appended, or the transport error.
    public var message: String
    /// `X-Request-Id` of the response, for Verilock support.
    public var requestID: String?

    /// A failure with the given values.
    public init(status: Int?, code: String?, message: String, requestID: String?) {
        self.status = status
        self.code = code
        self.message = message
        self.requestID = requestID
    }

    /// Reads the API's error body (`error`, `message`, and field errors from `details` or `errors`).
    public init(response: APIResponse) {
        struct Body: Decodable {
            var error: String?
            var message: String?
            var details: JSONValue?
            var errors: JSONValue?
        }
        let body = try? JSONDecoder().decode(Body.self, from: Data(response.body))
        var message = body?.message ?? "HTTP \(response.status) with no error message"
        var fields: [String] = []
        for case .object(let members) in [body?.details, body?.errors].compactMap({ $0 }) {
            for (field, value) in members.sorted(by: { $0.key < $1.key }) {
                switch value {
                case .array(let items):
                    let texts = items.map { item in
                        if case .string(let text) = item { return text }
                        return String(decoding: item.canonicalBytes, as: UTF8.self)
                    }
                    fields.append("\(field): \(texts.joined(separator: "; "))")
                case .string(let text): fields.append("\(field): \(text)")
                default: continue
                }
            }
        }
        if !fields.isEmpty { message += " (" + fields.joined(separator: ", ") + ")" }
        self.init(status: response.status, code: body?.error, message: message, requestID: response.requestID)
    }

    /// One line for rejects files and messages: status, code, message and request id.
    public var summary: String {
        var parts: [String] = []
        if let status { parts.append("HTTP \(status)") }
        if let code { parts.append(code) }
        var text = parts.joined(separator: " ")
        text += text.isEmpty ? message : ": \(message)"
        if let requestID { text += " [request \(requestID)]" }
        return text
    }
}

extension CreatedSession {
    /// The session in a 2xx body, if the body is one: see ``isWellFormed(secrets:)``.
    init?(usable response: APIResponse, secrets: [String]) {
        guard let session = try? JSONDecoder().decode(CreatedSession.self, from: Data(response.body)),
            session.isWellFormed(secrets: secrets)
        else { return nil }
        self = session
    }

    /// Whether the session can go into the ledger and the mail-merge file: an id and a token
    /// of token characters (ASCII letters, digits, `.`, `_`, `:`, `-`; at most 255), an http(s)
    /// `session_url` with a host, and none of them holding a secret (a server echoing the key).
    func isWellFormed(secrets: [String]) -> Bool {
        func isToken(_ text: String) -> Bool { (1...255).contains(text.utf8.count) && text.isTokenText }
        guard isToken(id), sessionToken.map(isToken) ?? true, sessionURL.utf8.count <= 4096,
            !sessionURL.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 }),
            let url = URL(string: sessionURL), ["https", "http"].contains(url.scheme?.lowercased()),
            url.host?.isEmpty == false
        else { return false }
        let fields = [id, sessionURL, sessionToken ?? ""].map { $0.lowercased() }
        return !secrets.contains { secret in fields.contains { $0.contains(secret.lowercased()) } }
    }
}
