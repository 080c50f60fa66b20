import Foundation
import Synchronization
import VerilockBatch

/// A closure-backed API for runner and sender tests: it answers with what the script says,
/// records every request, and measures the peak number of requests in flight.
final class FakeSessionsAPI: SessionsAPI {
    typealias Script = @Sendable (CreateSessionRequest, Int) async throws -> APIResponse

    private struct State {
        var requests: [CreateSessionRequest] = []
        var times: [Duration] = []
        var inFlight = 0
        var peak = 0
        var sessions: [String: [String]] = [:]
    }

    private let state = Mutex(State())
    private let script: Script
    private let onCreated: @Sendable (CreateSessionRequest) throws -> Void
    private let clock: TestClock?

    /// - Parameters:
    ///   - script: gets the request and how many times this key was sent before.
    ///   - onCreated: runs after a 201 was recorded; throwing loses the answer (a reset after commit).
    init(
        script: @escaping Script = { request, _ in FakeSessionsAPI.created(request) },
        onCreated: @escaping @Sendable (CreateSessionRequest) throws -> Void = { _ in },
        clock: TestClock? = nil
    ) {
        self.script = script
        self.onCreated = onCreated
        self.clock = clock
    }

    /// When each create was sent, on the test clock given at init.
    var times: [Duration] { state.withLock { $0.times } }

    var requests: [CreateSessionRequest] { state.withLock { $0.requests } }
    var peakConcurrency: Int { state.withLock { $0.peak } }

    /// Lists the sessions this fake created for `externalID` (from its own answers).
    func listSessions(_ request: SessionListRequest) async throws -> APIResponse {
        let externalID = request.externalID ?? ""
        let ids = state.withLock { $0.sessions[externalID] ?? [] }
        let items = ids.map { #"{"id":"\#($0)","external_id":"\#(externalID)","status":"created"}"# }
        return APIResponse(status: 200, body: Array(#"{"data":[\#(items.joined(separator: ","))],"meta":{}}"#.utf8))
    }

    func session(id: String) async throws -> APIResponse {
        let body = #"{"id":"\#(id)","session_url":"https://verilock.io/verify/tok_\#(id)","status":"created"}"#
        return APIResponse(status: 200, body: Array(body.utf8))
    }

    func createSession(_ request: CreateSessionRequest) async throws -> APIResponse {
        let previous = state.withLock { state in
            let count = state.requests.filter { $0.idempotencyKey == request.idempotencyKey }.count
            state.requests.append(request)
            state.times.append(clock?.now.offset ?? .zero)
            state.inFlight += 1
            state.peak = max(state.peak, state.inFlight)
            return count
        }
        defer { state.withLock { $0.inFlight -= 1 } }
        await Task.yield()
        let response = try await script(request, previous)
        if response.status == 201, let id = Self.sessionID(response) {
            state.withLock { state in
                if !(state.sessions[request.externalID]?.contains(id) ?? false) {
                    state.sessions[request.externalID, default: []].append(id)
                }
            }
            try onCreated(request)
        }
        return response
    }

    private static func sessionID(_ response: APIResponse) -> String? {
        struct Body: Decodable { var id: String }
        return try? JSONDecoder().decode(Body.self, from: Data(response.body)).id
    }

    /// A 201 whose session id is derived from the Idempotency-Key (as a replay would be).
    static func created(_ request: CreateSessionRequest, expiresAt: String = "2099-01-01T00:00:00Z") -> APIResponse {
        let id = "ses_" + request.idempotencyKey.suffix(16)
        let body = """
            {"id":"\(id)","session_token":"tok_\(id)","session_url":"https://verilock.io/verify/tok_\(id)",\
            "status":"created","expires_at":"\(expiresAt)"}
            """
        return APIResponse(status: 201, requestID: "req_1", body: Array(body.utf8))
    }

    /// An error answer with the API's error body.
    static func error(_ status: Int, code: String, message: String, retryAfter: String? = nil) -> APIResponse {
        let body = #"{"error":"\#(code)","message":"\#(message)","details":null}"#
        return APIResponse(status: status, requestID: "req_err", retryAfter: retryAfter, body: Array(body.utf8))
    }
}
