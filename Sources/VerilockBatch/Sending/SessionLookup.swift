import Foundation

/// What a lookup found for an external_id whose create had an unknown outcome.
public enum LookupResult: Sendable, Equatable {
    /// A live session the earlier create made: adopt it.
    case found(CreatedSession)
    /// No such session: creating is safe.
    case none
    /// The answer cannot be trusted (an item with another external_id: the filter was ignored).
    case untrusted(String)
    /// The lookup itself failed; try again later.
    case failed(APIFailure)
    /// The API refused the key.
    case keyRefused(APIFailure)
}

/// Settles a create whose answer was lost by asking the API: `GET /sessions?external_id=X`,
/// trusted only when every item carries X; a live session not known to the ledger (not an
/// earlier generation) is adopted, fetched by id when the list item has no `session_url`.
struct SessionLookup {
    /// Pages read at most (100 items each).
    static let maxPages = 10

    let api: any SessionsAPI
    let budget: RetryBudget

    func lookup(externalID: String, knownSessionIDs: Set<String>, now: Date) async -> LookupResult {
        struct Item: Decodable {
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
        struct Page: Decodable { var data: [Item] }

        var candidates: [Item] = []
        for page in 1...Self.maxPages {
            let response: APIResponse
            await budget.recordRequest()
            do {
                response = try await api.listSessions(externalID: externalID, page: page)
            } catch {
                return .failed(
                    APIFailure(status: nil, code: "transport", message: "lookup: no answer: \(error)", requestID: nil))
            }
            switch ResponseClass(status: response.status) {
            case .success: break
            case .stopRun: return .keyRefused(APIFailure(response: response))
            default: return .failed(APIFailure(response: response))
            }
            guard let items = try? JSONDecoder().decode(Page.self, from: Data(response.body)).data else {
                return .untrusted("the lookup answer is not a session list")
            }
            if let stranger = items.first(where: { $0.externalID != externalID }) {
                return .untrusted("the lookup returned session \(stranger.id) of another external_id")
            }
            candidates += items.filter { item in
                guard !knownSessionIDs.contains(item.id), item.status != "expired" else { return false }
                guard let expires = item.expiresAt.flatMap(Timestamp.parse) else { return true }
                return expires > now
            }
            if items.count < 100 { break }
        }
        guard let item = candidates.first else { return .none }
        if let url = item.sessionURL {
            return .found(
                CreatedSession(
                    id: item.id, sessionToken: nil, sessionURL: url, status: item.status, expiresAt: item.expiresAt))
        }
        let response: APIResponse
        await budget.recordRequest()
        do {
            response = try await api.session(id: item.id)
        } catch {
            return .failed(
                APIFailure(status: nil, code: "transport", message: "lookup: no answer: \(error)", requestID: nil))
        }
        guard ResponseClass(status: response.status) == .success,
            let session = try? JSONDecoder().decode(CreatedSession.self, from: Data(response.body))
        else {
            return .failed(APIFailure(response: response))
        }
        return .found(session)
    }
}
