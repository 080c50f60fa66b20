import Foundation
import Testing

@testable import VerilockBatch

@Suite("Retry classification and delays")
struct RetryPolicyTests {
    @Test(
        "each status has its class",
        arguments: [
            (201, ResponseClass.success), (200, .success), (400, .failRow), (404, .failRow), (422, .failRow),
            (401, .stopRun), (402, .stopRun), (403, .stopRun), (408, .retry), (409, .retry), (429, .rateLimited),
            (500, .retry), (502, .retry), (503, .unavailable), (504, .retry), (418, .failRow),
        ])
    func classification(status: Int, expected: ResponseClass) {
        #expect(ResponseClass(status: status) == expected)
    }

    @Test("backoff doubles from 0.5 s up to the 30 s cap, then full jitter scales it")
    func backoff() {
        let policy = RetryPolicy()
        let ceilings = (1...8).map { policy.backoff(retry: $0, jitter: 1) }
        #expect(
            ceilings == [
                .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(30),
                .seconds(30),
            ])
        #expect(policy.backoff(retry: 3, jitter: 0.5) == .seconds(1))
        #expect(policy.backoff(retry: 3, jitter: 0) == .zero)
    }

    @Test("Retry-After is read as seconds or as an HTTP-date, and capped")
    func retryAfter() {
        let policy = RetryPolicy(maxRetryAfter: .seconds(300))
        let now = Date(timeIntervalSince1970: 784_111_757)  // Sun, 06 Nov 1994 08:49:17 GMT
        #expect(policy.retryAfter("7", now: now) == .seconds(7))
        #expect(policy.retryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now: now) == .seconds(20))
        #expect(policy.retryAfter("86400", now: now) == .seconds(300))
        #expect(policy.retryAfter("soon", now: now) == nil)
        #expect(policy.retryAfter(nil, now: now) == nil)
    }
}

@Suite("Rate limiter")
struct RateLimiterTests {
    @Test("GCRA lets a burst through, then spaces requests at the rate")
    func gcra() {
        var gcra = GCRA(requestsPerSecond: 10, burst: 2)
        let waits = (0..<5).map { _ in gcra.reserve(at: .zero) }
        #expect(waits == [.zero, .zero, .milliseconds(100), .milliseconds(200), .milliseconds(300)])
    }

    @Test("a pause holds every later slot until it ends, then resumes at the rate without a burst")
    func gcraPause() {
        var gcra = GCRA(requestsPerSecond: 10, burst: 3)
        gcra.pause(until: .seconds(5))
        #expect(gcra.reserve(at: .seconds(1)) == .seconds(4))
        #expect(gcra.reserve(at: .seconds(1)) == .milliseconds(4100))
    }

    @Test("the actor limits N requests to N/rate seconds on its clock")
    func actorRate() async throws {
        let clock = TestClock()
        let limiter = RateLimiter(requestsPerSecond: 4, burst: 1, clock: clock)
        for _ in 0..<9 { try await limiter.acquire() }
        #expect(clock.now.offset == .seconds(2))
    }

    @Test("a pause applies to requests that were already waiting for a slot")
    func pauseAppliesToAll() async throws {
        let clock = TestClock()
        let limiter = RateLimiter(requestsPerSecond: 1, burst: 1, clock: clock)
        try await limiter.acquire()
        await limiter.pause(for: .seconds(30))
        try await limiter.acquire()
        #expect(clock.now.offset >= .seconds(30))
    }

    @Test("tightening lowers the rate, never raises it")
    func tighten() async {
        let limiter = RateLimiter(requestsPerSecond: 10, clock: TestClock())
        #expect(await limiter.tighten(to: 2))
        #expect(await !limiter.tighten(to: 5))
        #expect(await limiter.requestsPerSecond == 2)
    }
}
