import Foundation

/// What a lookup found for an external_id whose create had an unknown outcome.
public enum LookupResult: Sendable, Equatable {
    /// A live session the earlier create made: adopt it.
    case found(CreatedSession)
    /// No such session: creating (with the same key and body) is safe.
    case none
    /// The lookup endpoint cannot serve: it is missing (404, 405, 400), its answer is not a
    /// session list, or it ignores its filter (an item with another external_id).
    case unavailable(String)
    /// The lookup itself failed (no answer, 5xx, 429 too often); try again later.
    case failed(APIFailure)
    /// The run is stopping: no answer came.
    case interrupted
}

extension LookupResult {
    /// One word for logs; no personal data.
    var summary: String {
        switch self {
        case .found(let session): "session \(session.id)"
        case .none: "none"
        case .unavailable: "endpoint unavailable"
        case .failed(let failure): "failed: \(failure.status.map(String.init) ?? "no answer")"
        case .interrupted: "interrupted"
        }
    }
}

/// One request a lookup makes.
enum LookupRequest: Sendable {
    /// `GET /sessions?external_id=X&page=N`.
    case list(externalID: String, page: Int)
    /// `GET /sessions/{id}`.
    case detail(id: String)
}

/// Settles a create whose answer was lost by asking the API: `GET /sessions?external_id=X`,
/// trusted only when every item carries X; a session not known to the ledger (not an earlier
/// generation) is adopted, a live one first, fetched by id when the list item has no
/// `session_url`. An adopted session that has expired since is the sender's caller's to
/// reissue: creating another with the same key would make a second session on a server that
/// ignores keys.
///
/// Every request goes out through `send`, the sender's rate machinery: it takes a limiter slot,
/// and 429, Retry-After and the rate headers act on it as on a create.
struct SessionLookup {
    /// Pages read at most (100 items each).
    static let maxPages = 10

    /// The failure for a listed session that cannot be adopted.
    static let malformed = APIFailure(
        status: nil, code: nil,
        message: "the API listed a session whose id or link is malformed (or holds the API key): not adopted",
        requestID: nil)

    let externalID: String
    let knownSessionIDs: Set<String>
    let now: Date
    /// What no adopted session may hold (the API key).
    let secrets: [String]

    private struct Item: Decodable {
        var id: String
        var externalID: String?
        var status: String?
        var expiresAt: String?
        var sessionURL: String?
        enum CodingKeys: String, CodingKey {
            case id, status
            case externalID = "external_id"
            case expiresAt = "expires_at"
            case sessionURL = "session_url"
        }
    }

    private struct Page: Decodable { var data: [Item] }

    /// Statuses that say the endpoint is not there (or does not take the filter).
    static func endpointMissing(_ status: Int) -> Bool { status == 400 || status == 404 || status == 405 }

    func lookup(send: (LookupRequest) async throws(APIError) -> Exchange) async throws(APIError) -> LookupResult {
        var candidates: [Item] = []
        for page in 1...Self.maxPages {
            let response: APIResponse
            switch try await send(.list(externalID: externalID, page: page)) {
            case .interrupted: return .interrupted
            case .noAnswer(let failure), .rateLimitedTooOften(let failure): return .failed(failure)
            case .answer(let answer): response = answer
            }
            guard ResponseClass(status: response.status) == .success else {
                if Self.endpointMissing(response.status) {
                    return .unavailable("the lookup endpoint answered HTTP \(response.status)")
                }
                return .failed(APIFailure(response: response))
            }
            guard let items = try? JSONDecoder().decode(Page.self, from: Data(response.body)).data else {
                return .unavailable("the lookup answer is not a session list")
            }
            if items.contains(where: { $0.externalID != externalID }) {
                // The stranger's id is the server's text: never repeated in a message.
                return .unavailable("the lookup returned a session of another external_id (it ignores its filter)")
            }
            candidates += items.filter { !knownSessionIDs.contains($0.id) }
            if items.count < 100 { break }
        }
        let live = candidates.first { item in
            guard item.status != "expired" else { return false }
            guard let expires = item.expiresAt.flatMap(Timestamp.parse) else { return true }
            return expires > now
        }
        guard let item = live ?? candidates.last else { return .none }
        if let url = item.sessionURL, !url.isEmpty {
            let session = CreatedSession(
                id: item.id, sessionToken: nil, sessionURL: url, status: item.status, expiresAt: item.expiresAt)
            guard session.isWellFormed(secrets: secrets) else { return .failed(Self.malformed) }
            return .found(session)
        }
        switch try await send(.detail(id: item.id)) {
        case .interrupted: return .interrupted
        case .noAnswer(let failure), .rateLimitedTooOften(let failure): return .failed(failure)
        case .answer(let response):
            guard ResponseClass(status: response.status) == .success else {
                return .failed(APIFailure(response: response))
            }
            guard let session = CreatedSession(usable: response, secrets: secrets) else {
                return .failed(Self.malformed)
            }
            return .found(session)
        }
    }
}
