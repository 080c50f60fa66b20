import Foundation
import Logging
import Synchronization
import Testing

@testable import VerilockBatch

@Suite("Session sender")
struct SessionSenderTests {
    let request = PendingCreate(
        rowID: 1, request: CreateSessionRequest(externalID: "u-1", idempotencyKey: "vb1-key", body: Array("{}".utf8)),
        generation: 1)

    func sender(_ api: FakeSessionsAPI, clock: TestClock = TestClock(), maxAttempts: Int = 5) -> SessionSender<
        TestClock
    > {
        SessionSender(
            api: api,
            limiter: RateLimiter(requestsPerSecond: 1000, burst: 10, clock: clock),
            policy: RetryPolicy(maxAttempts: maxAttempts),
            unknownOutcome: .idempotencyKey,
            clock: clock,
            jitter: { 1 },
            now: { Date(timeIntervalSince1970: 0) },
            logger: Logger(label: "test")
        )
    }

    @Test("5xx and transport errors are retried with the same key until a 201")
    func retriesThenCreated() async throws {
        struct Reset: Error {}
        let api = FakeSessionsAPI { request, previous in
            switch previous {
            case 0: return FakeSessionsAPI.error(500, code: "internal", message: "boom")
            case 1: throw Reset()
            default: return FakeSessionsAPI.created(request)
            }
        }
        let result = await sender(api).send(request)
        guard case .created(let session) = result.outcome else {
            Issue.record("expected created, got \(result.outcome)")
            return
        }
        #expect(session.sessionURL.hasPrefix("https://verilock.io/verify/"))
        #expect(result.statuses == [500, 0, 201])
        #expect(result.retries == 2)
        #expect(Set(api.requests.map(\.idempotencyKey)) == ["vb1-key"])
    }

    @Test("a 422 fails the row at once, keeping the API's message and field errors")
    func validationFailure() async throws {
        let api = FakeSessionsAPI { _, _ in
            let body =
                #"{"error":"validation_error","message":"Invalid","details":{"redirect_url":["must be absolute"]}}"#
            return APIResponse(status: 422, requestID: "req_9", body: Array(body.utf8))
        }
        let result = await sender(api).send(request)
        #expect(
            result.outcome
                == .failed(
                    APIFailure(
                        status: 422, code: "validation_error", message: "Invalid (redirect_url: must be absolute)",
                        requestID: "req_9")))
        #expect(api.requests.count == 1)
    }

    @Test("401 stops the run at once")
    func keyRefused() async {
        let api = FakeSessionsAPI { _, _ in FakeSessionsAPI.error(401, code: "unauthorized", message: "revoked") }
        let result = await sender(api).send(request)
        guard case .keyRefused(let failure) = result.stop else {
            Issue.record("expected the run to stop, got \(String(describing: result.stop))")
            return
        }
        #expect(failure.status == 401)
        #expect(result.statuses == [401])
        #expect(api.requests.count == 1)
    }

    @Test("when the attempts run out the row is left unresolved with the last error")
    func exhausted() async throws {
        let api = FakeSessionsAPI { _, _ in FakeSessionsAPI.error(502, code: "bad_gateway", message: "down") }
        let clock = TestClock()
        let result = await sender(api, clock: clock, maxAttempts: 3).send(request)
        guard case .unresolved(let failure) = result.outcome else {
            Issue.record("expected unresolved")
            return
        }
        #expect(failure.status == 502)
        #expect(api.requests.count == 3)
        #expect(clock.sleeps.filter { $0 > .zero } == [.milliseconds(500), .seconds(1)])
    }

    @Test("429 honours Retry-After and is not a failed attempt")
    func rateLimited() async throws {
        let api = FakeSessionsAPI { request, previous in
            previous < 3
                ? FakeSessionsAPI.error(429, code: "rate_limit_exceeded", message: "slow down", retryAfter: "7")
                : FakeSessionsAPI.created(request)
        }
        let clock = TestClock()
        let result = await sender(api, clock: clock, maxAttempts: 2).send(request)
        guard case .created = result.outcome else {
            Issue.record("expected created despite max_attempts 2")
            return
        }
        #expect(result.rateLimited == 3)
        #expect(clock.now.offset >= .seconds(21))
    }
}

@Suite("Settling unknown outcomes")
struct SettlementTests {
    func sender(_ api: any SessionsAPI, mode: UnknownOutcome) -> SessionSender<TestClock> {
        let clock = TestClock()
        return SessionSender(
            api: api, limiter: RateLimiter(requestsPerSecond: 1000, burst: 10, clock: clock),
            policy: RetryPolicy(maxAttempts: 5), unknownOutcome: mode, clock: clock, jitter: { 1 },
            now: { Date(timeIntervalSince1970: 0) }, logger: Logger(label: "test"))
    }

    func pending(attempted: Bool, known: Set<String> = []) -> PendingCreate {
        PendingCreate(
            rowID: 1, request: CreateSessionRequest(externalID: "u-1", idempotencyKey: "vb1-k", body: []),
            generation: 1, attempted: attempted, knownSessionIDs: known)
    }

    /// An API that creates the session, then loses the answer, the first time.
    static func lostAnswerAPI() -> FakeSessionsAPI {
        struct Reset: Error {}
        let lost = Mutex(false)
        return FakeSessionsAPI { request, _ in
            let response = FakeSessionsAPI.created(request)
            return response
        } onCreated: { _ in
            let first = lost.withLock { lost in
                defer { lost = true }
                return !lost
            }
            if first { throw Reset() }
        }
    }

    @Test("lookup: a session made by an attempt whose answer was lost is adopted, not created again")
    func lookupAdopts() async throws {
        let api = Self.lostAnswerAPI()
        let result = await sender(api, mode: .lookup).send(pending(attempted: false))
        guard case .created(let session) = result.outcome else {
            Issue.record("expected the session to be adopted, got \(result.outcome)")
            return
        }
        #expect(api.requests.count == 1)
        #expect(result.lookups == 1)
        #expect(session.sessionURL.contains("/verify/"))
    }

    @Test("idempotency-key: the lost answer is settled by resending the same key")
    func keyResend() async throws {
        let api = Self.lostAnswerAPI()
        let result = await sender(api, mode: .idempotencyKey).send(pending(attempted: false))
        guard case .created = result.outcome else {
            Issue.record("expected created")
            return
        }
        #expect(api.requests.map(\.idempotencyKey) == ["vb1-k", "vb1-k"])
        #expect(result.lookups == 0)
    }

    @Test("lookup: a row attempted by a dead run is looked up first; an earlier generation's session is not adopted")
    func lookupSkipsKnownSessions() async throws {
        let api = FakeSessionsAPI()
        let earlier = try await api.createSession(
            CreateSessionRequest(externalID: "u-1", idempotencyKey: "vb1-generation1", body: []))
        #expect(earlier.status == 201)
        let known = Set(try await Self.ids(api))
        #expect(known.count == 1)
        let result = await sender(api, mode: .lookup).send(pending(attempted: true, known: known))
        guard case .created(let session) = result.outcome else {
            Issue.record("expected created")
            return
        }
        #expect(result.lookups == 1)
        #expect(api.requests.count == 2)
        #expect(!known.contains(session.id))
    }

    static func ids(_ api: FakeSessionsAPI) async throws -> [String] {
        let response = try await api.listSessions(SessionListRequest(externalID: "u-1"))
        struct Page: Decodable {
            struct Item: Decodable { var id: String }
            var data: [Item]
        }
        return try JSONDecoder().decode(Page.self, from: Data(response.body)).data.map(\.id)
    }

    @Test("a lookup answer with another external_id is not trusted: the create goes out with its key")
    func untrustedLookup() async throws {
        struct Ignoring: SessionsAPI {
            let inner = FakeSessionsAPI()
            func createSession(_ request: CreateSessionRequest) async throws -> APIResponse {
                try await inner.createSession(request)
            }
            func listSessions(_ request: SessionListRequest) async throws -> APIResponse {
                APIResponse(status: 200, body: Array(#"{"data":[{"id":"ses_x","external_id":"other"}]}"#.utf8))
            }
            func session(id: String) async throws -> APIResponse { APIResponse(status: 404) }
        }
        let api = Ignoring()
        let result = await sender(api, mode: .lookup).send(pending(attempted: true))
        guard case .created(let session) = result.outcome else {
            Issue.record("expected created")
            return
        }
        #expect(session.id != "ses_x")
        #expect(api.inner.requests.count == 1)
    }

    @Test("422 for a key reused with another body fails the row, saying another tool used the key")
    func keyReused() async throws {
        let api = FakeSessionsAPI { _, _ in
            FakeSessionsAPI.error(422, code: "idempotency_key_reused", message: "different body")
        }
        let result = await sender(api, mode: .idempotencyKey).send(pending(attempted: true))
        guard case .failed(let failure) = result.outcome else {
            Issue.record("expected failed")
            return
        }
        #expect(failure.message.contains("another tool or ledger used the same key"))
        #expect(api.requests.count == 1)
    }
}

@Suite("Lookups under the rate machinery")
struct LookupRateTests {
    let clock = TestClock()

    func sender(_ api: any SessionsAPI, limiter: RateLimiter<TestClock>, maxAttempts: Int = 3) -> SessionSender<
        TestClock
    > {
        SessionSender(
            api: api, limiter: limiter, policy: RetryPolicy(maxAttempts: maxAttempts), unknownOutcome: .auto,
            clock: clock, jitter: { 1 }, now: { Date(timeIntervalSince1970: 0) }, logger: Logger(label: "test"))
    }

    static let attempted = PendingCreate(
        rowID: 1, request: CreateSessionRequest(externalID: "u-1", idempotencyKey: "vb1-k", body: []),
        generation: 1, attempted: true)

    @Test("a lookup's 429 pauses every request for its Retry-After and is not a failed attempt")
    func lookupRateLimited() async throws {
        let calls = Mutex(0)
        let api = ScriptedLookupAPI(inner: FakeSessionsAPI()) { id in
            let call = calls.withLock { calls in
                calls += 1
                return calls
            }
            guard call > 2 else {
                return FakeSessionsAPI.error(429, code: "rate_limit_exceeded", message: "slow", retryAfter: "5")
            }
            return APIResponse(
                status: 200,
                body: Array(
                    #"{"data":[{"id":"ses_1","external_id":"\#(id)","session_url":"https://verilock.io/v/1"}]}"#.utf8))
        }
        let limiter = RateLimiter(requestsPerSecond: 1000, burst: 10, clock: clock)
        // One attempt only: the 429s must not count as failed attempts.
        let result = await sender(api, limiter: limiter, maxAttempts: 1).send(Self.attempted)
        #expect(
            result.outcome
                == .created(
                    CreatedSession(
                        id: "ses_1", sessionToken: nil, sessionURL: "https://verilock.io/v/1", status: nil,
                        expiresAt: nil)))
        #expect(result.statuses == [429, 429, 200])
        #expect(result.rateLimited == 2)
        #expect(clock.sleeps.filter { $0 >= .seconds(4) }.count == 2, "sleeps: \(clock.sleeps)")
        #expect(api.inner.requests.isEmpty)
    }

    @Test("a lookup answer's X-RateLimit-Limit slows the limiter like a create's")
    func lookupRateHeaders() async throws {
        let api = ScriptedLookupAPI(inner: FakeSessionsAPI()) { _ in
            APIResponse(status: 200, rateLimitLimit: 60, body: Array(#"{"data":[]}"#.utf8))
        }
        let limiter = RateLimiter(requestsPerSecond: 100, burst: 10, clock: clock)
        let result = await sender(api, limiter: limiter).send(Self.attempted)
        guard case .created = result.outcome else {
            Issue.record("expected created after an empty lookup, got \(result.outcome)")
            return
        }
        #expect(await limiter.requestsPerSecond <= 1)
        #expect(api.inner.requests.count == 1)
    }

    @Test("a 503 without Retry-After pauses every request for the backoff delay")
    func unavailablePausesAll() async throws {
        let api = FakeSessionsAPI { request, previous in
            previous == 0
                ? FakeSessionsAPI.error(503, code: "unavailable", message: "busy") : FakeSessionsAPI.created(request)
        }
        let limiter = RateLimiter(requestsPerSecond: 1000, burst: 10, clock: clock)
        let fresh = PendingCreate(
            rowID: 1, request: CreateSessionRequest(externalID: "u-1", idempotencyKey: "vb1-k", body: []),
            generation: 1)
        let sending = SessionSender(
            api: api, limiter: limiter, policy: RetryPolicy(maxAttempts: 3), unknownOutcome: .idempotencyKey,
            clock: clock, jitter: { 1 }, now: { Date(timeIntervalSince1970: 0) }, logger: Logger(label: "test"))
        let result = await sending.send(fresh)
        guard case .created = result.outcome else {
            Issue.record("expected created, got \(result.outcome)")
            return
        }
        #expect(result.statuses == [503, 201])
        // One wait of the backoff delay, in the limiter (every worker waits), not a sleep of the
        // row's own on top.
        #expect(clock.sleeps.filter { $0 > .zero } == [.milliseconds(500)], "sleeps: \(clock.sleeps)")
    }
}
