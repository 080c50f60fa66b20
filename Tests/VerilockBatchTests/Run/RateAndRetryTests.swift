import Foundation
import Synchronization
import Testing

@testable import VerilockBatch

@Suite("Rate and retry fidelity of a whole run")
struct RateAndRetryTests {
    @Test("one 429 pauses every worker for Retry-After, and is not a failed attempt")
    func rateLimitPausesAll() async throws {
        var harness = RunnerHarness(inputs: ["a.csv": BatchRunnerTests.csv(rows: 20)], concurrency: 4)
        harness.job.api.maxAttempts = 1
        let clock = TestClock()
        let limited = Mutex<String?>(nil)
        let gate = Gate()
        let api = FakeSessionsAPI(
            script: { request, previous in
                let first = limited.withLock { key in
                    if key == nil { key = request.idempotencyKey }
                    return key == request.idempotencyKey
                }
                if first && previous == 0 {
                    return FakeSessionsAPI.error(
                        429, code: "rate_limit_exceeded", message: "slow down", retryAfter: "30")
                }
                // The other requests admitted before the 429 came back wait until its retry is sent,
                // so every request after them must have waited for the pause.
                if first { await gate.open() } else { await gate.wait() }
                return FakeSessionsAPI.created(request)
            }, clock: clock)
        let report = try await harness.run(api, clock: clock)
        #expect(report.exitCode == 0)
        #expect(report.counts.created == 20)
        #expect(report.counts.rateLimited == 1)
        #expect(api.requests.count == 21)
        // Only requests admitted before the 429 came back went out during the pause.
        #expect(api.times.filter { $0 < .seconds(30) }.count <= 4)
        #expect(api.times.max() ?? .zero >= .seconds(30))
    }

    @Test("a dead API stops the run with 69 within the retry budget; the rows stay pending")
    func deadAPI() async throws {
        let harness = RunnerHarness(inputs: ["a.csv": BatchRunnerTests.csv(rows: 200)], concurrency: 4)
        struct Unreachable: Error {}
        let api = FakeSessionsAPI { _, _ in throw Unreachable() }
        let report = try await harness.run(api)
        #expect(report.exitCode == 69)
        #expect(report.stoppedBecause?.contains("unavailable past the retry budget") == true)
        // The retry budget (RetryBudget: 10 retries plus a fifth of the requests) is what stops
        // it; the creates already past the check when it trips (one per worker) still go out.
        // Lookups of the lost answers are requests too, in the budget's count.
        let counts = report.counts
        print("dead API: \(api.requests.count) creates, \(counts.requests) requests, \(counts.retries) retries")
        #expect(counts.retries <= 10 + counts.requests / 5 + 4)
        #expect(api.requests.count < 80, "of the 600 creates 200 rows could take")
        #expect(try harness.rejectRows.count == 200)
        #expect(try harness.rejectRows.allSatisfy { $0["reason"] == "pending" })
    }

    @Test("a 5xx storm also trips the breaker; a rerun against a healthy API completes with the same keys")
    func serverErrorsThenRecovery() async throws {
        let harness = RunnerHarness(inputs: ["a.csv": BatchRunnerTests.csv(rows: 50)], concurrency: 2)
        let broken = FakeSessionsAPI { _, _ in FakeSessionsAPI.error(502, code: "bad_gateway", message: "down") }
        let first = try await harness.run(broken)
        #expect(first.exitCode == 69)
        let healthy = FakeSessionsAPI()
        let second = try await harness.run(healthy)
        #expect(second.exitCode == 0)
        #expect(Set(broken.requests.map(\.idempotencyKey)).isSubset(of: Set(healthy.requests.map(\.idempotencyKey))))
    }

    @Test("404 on the first rows: the profile does not exist, stop with 78 naming it")
    func unknownProfile() async throws {
        let harness = RunnerHarness(inputs: ["a.csv": BatchRunnerTests.csv(rows: 100)], concurrency: 2)
        let api = FakeSessionsAPI { _, _ in FakeSessionsAPI.error(404, code: "not_found", message: "no such profile") }
        let report = try await harness.run(api)
        #expect(report.exitCode == 78)
        #expect(report.stoppedBecause?.contains(harness.job.template.profileID) == true)
        #expect(api.requests.count <= 3 + 2)
        #expect(try harness.outputRows.isEmpty)
        #expect(try harness.rejectRows.count == 100)
    }

    @Test("a 404 after successes fails only that row")
    func notFoundAfterSuccess() async throws {
        let harness = RunnerHarness(inputs: ["a.csv": BatchRunnerTests.csv(rows: 10)], concurrency: 1)
        let api = FakeSessionsAPI { request, _ in
            ["u-5", "u-6", "u-7", "u-8"].contains(request.externalID)
                ? FakeSessionsAPI.error(404, code: "not_found", message: "gone") : FakeSessionsAPI.created(request)
        }
        let report = try await harness.run(api)
        #expect(report.exitCode == 1)
        #expect(report.counts.created == 6)
        #expect(report.counts.failed == 4)
    }

    @Test("rate_limit auto starts at 120/min and follows the server's X-RateLimit-Limit up")
    func autoFollowsUp() async throws {
        var harness = RunnerHarness(inputs: ["a.csv": BatchRunnerTests.csv(rows: 61)], concurrency: 4)
        harness.job.api.rateLimit = try #require(RateLimit(parsing: "auto"))
        let clock = TestClock()
        let api = FakeSessionsAPI(
            script: { request, _ in
                var response = FakeSessionsAPI.created(request)
                response.rateLimitLimit = 600
                return response
            }, clock: clock)
        let report = try await harness.run(api, clock: clock)
        #expect(report.exitCode == 0)
        #expect(report.counts.created == 61)
        // At 120/min the 61 creates would take 30 s; following the server's 600/min, about 6 s.
        #expect(clock.now.offset < .seconds(10))
        #expect(clock.now.offset >= .seconds(5))
    }

    @Test("a configured rate above the server's X-RateLimit-Limit is lowered to it")
    func followsServerLimit() async throws {
        var harness = RunnerHarness(inputs: ["a.csv": BatchRunnerTests.csv(rows: 61)], concurrency: 4)
        harness.job.api.rateLimit = RateLimit(requestsPerSecond: 10)
        let clock = TestClock()
        let api = FakeSessionsAPI(
            script: { request, _ in
                var response = FakeSessionsAPI.created(request)
                response.rateLimitLimit = 60
                return response
            }, clock: clock)
        let report = try await harness.run(api, clock: clock)
        #expect(report.exitCode == 0)
        #expect(report.counts.created == 61)
        // 61 requests at 1/s (with 1% headroom) take about a minute, not six seconds.
        #expect(clock.now.offset >= .seconds(55))
    }
}

/// Holds callers until it is opened.
actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters.removeAll()
    }
}
