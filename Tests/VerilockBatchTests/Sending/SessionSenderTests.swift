import Foundation
import Logging
import Testing

@testable import VerilockBatch

@Suite("Session sender")
struct SessionSenderTests {
    let request = CreateSessionRequest(externalID: "u-1", idempotencyKey: "vb1-key", body: Array("{}".utf8))

    func sender(_ api: FakeSessionsAPI, clock: TestClock = TestClock(), maxAttempts: Int = 5) -> SessionSender<
        TestClock
    > {
        SessionSender(
            api: api,
            limiter: RateLimiter(requestsPerSecond: 1000, burst: 10, clock: clock),
            policy: RetryPolicy(maxAttempts: maxAttempts),
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
        let result = try await sender(api).send(request)
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
        let result = try await sender(api).send(request)
        #expect(
            result.outcome
                == .failed(
                    APIFailure(
                        status: 422, code: "validation_error", message: "Invalid (redirect_url: must be absolute)",
                        requestID: "req_9")))
        #expect(api.requests.count == 1)
    }

    @Test("401 throws to stop the run")
    func keyRefused() async {
        let api = FakeSessionsAPI { _, _ in FakeSessionsAPI.error(401, code: "unauthorized", message: "revoked") }
        await #expect(throws: APIError.self) { _ = try await sender(api).send(request) }
        #expect(api.requests.count == 1)
    }

    @Test("when the attempts run out the row is left unresolved with the last error")
    func exhausted() async throws {
        let api = FakeSessionsAPI { _, _ in FakeSessionsAPI.error(502, code: "bad_gateway", message: "down") }
        let clock = TestClock()
        let result = try await sender(api, clock: clock, maxAttempts: 3).send(request)
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
        let result = try await sender(api, clock: clock, maxAttempts: 2).send(request)
        guard case .created = result.outcome else {
            Issue.record("expected created despite max_attempts 2")
            return
        }
        #expect(result.rateLimited == 3)
        #expect(clock.now.offset >= .seconds(21))
    }
}
