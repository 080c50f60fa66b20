import Foundation
import Logging
import Synchronization
import Testing

@testable import VerilockBatch

/// `sync` against list endpoints that do not behave: no `meta`, a `last_page` that lies, a
/// `page` parameter that is ignored, strangers' sessions. Each must end with every session
/// reported once and a bounded number of requests.
@Suite("Sync against odd servers")
struct SyncRunnerTests {
    /// A fake whose creates are `inner`'s and whose list pages `listing` makes from every
    /// session `inner` created (in creation order), counting requests.
    final class ListingAPI: SessionsAPI, Sendable {
        let inner: FakeSessionsAPI
        let listing: @Sendable ([(externalID: String, id: String)], SessionListRequest) -> [UInt8]
        let requests = Mutex((lists: 0, details: 0))

        init(
            inner: FakeSessionsAPI = FakeSessionsAPI(),
            listing: @escaping @Sendable ([(externalID: String, id: String)], SessionListRequest) -> [UInt8]
        ) {
            self.inner = inner
            self.listing = listing
        }

        func createSession(_ request: CreateSessionRequest) async throws -> APIResponse {
            try await inner.createSession(request)
        }

        /// Every session made, in the order its create arrived (the fake's ids come from the key).
        var sessions: [(externalID: String, id: String)] {
            inner.requests.map { ($0.externalID, "ses_" + $0.idempotencyKey.suffix(16)) }
        }

        func listSessions(_ request: SessionListRequest) async throws -> APIResponse {
            requests.withLock { $0.lists += 1 }
            return APIResponse(status: 200, body: listing(sessions, request))
        }

        func session(id: String) async throws -> APIResponse {
            requests.withLock { $0.details += 1 }
            let body = #"{"id":"\#(id)","status":"in_progress","session_url":"https://verilock.io/verify/tok_\#(id)"}"#
            return APIResponse(status: 200, body: Array(body.utf8))
        }
    }

    /// The list items of `sessions`, completed and approved.
    static func items(_ sessions: some Sequence<(externalID: String, id: String)>) -> String {
        sessions.map {
            #"{"id":"\#($0.id)","external_id":"\#($0.externalID)","status":"completed","decision":"approved"}"#
        }.joined(separator: ",")
    }

    /// Runs 250 creates, then syncs through `listing`; returns the report, the requests and the
    /// ledger's funnel.
    static func sync(
        _ listing: @escaping @Sendable ([(externalID: String, id: String)], SessionListRequest) -> [UInt8]
    ) async throws -> (SyncReport, (lists: Int, details: Int), Funnel) {
        let rows = (0..<250).map { "s-\($0),s\($0)@example.com" }.joined(separator: "\n")
        let harness = RunnerHarness(inputs: ["a.csv": "external_id,applicant_email\n" + rows + "\n"])
        let api = ListingAPI(listing: listing)
        #expect(try await harness.run(api: api).counts.created == 250)
        let report = try await SyncRunner(job: harness.job, api: api, clock: TestClock(), logger: Logger(label: "t"))
            .run()
        let ledger = try SQLiteLedger(path: harness.job.ledgerPath)
        return (report, api.requests.withLock { $0 }, try await ledger.funnel()["test"] ?? Funnel())
    }

    @Test("no meta at all: full pages are followed until a short one")
    func noMeta() async throws {
        let (report, requests, funnel) = try await Self.sync { sessions, request in
            let page = sessions.dropFirst((request.page - 1) * 100).prefix(100)
            return Array(#"{"data":[\#(Self.items(page))]}"#.utf8)
        }
        #expect(report.exitCode == 0 && report.tally.matched == 250)
        #expect(requests.lists == 3 && requests.details == 0)
        #expect(funnel.approved == 250)
    }

    @Test("a last_page larger than the open sessions: the list is left after one page, the rest fetched one by one")
    func lyingLastPage() async throws {
        let (report, requests, funnel) = try await Self.sync { sessions, request in
            let page = sessions.dropFirst((request.page - 1) * 100).prefix(100)
            return Array(
                #"{"data":[\#(Self.items(page))],"meta":{"current_page":\#(request.page),"last_page":1000000}}"#.utf8)
        }
        #expect(report.exitCode == 0 && report.tally.matched == 250)
        #expect(report.listUnavailable?.hasPrefix("the list holds 1000000 or more pages for 250 open sessions") == true)
        #expect(requests.lists == 1 && requests.details == 150)
        #expect(funnel.approved == 100 && funnel.started == 150)
    }

    @Test("a page parameter that is ignored: the list is given up, every session fetched one by one")
    func ignoredPage() async throws {
        let (report, requests, funnel) = try await Self.sync { sessions, _ in
            let first = sessions.prefix(100)
            return Array(#"{"data":[\#(Self.items(first))],"meta":{"last_page":3}}"#.utf8)
        }
        #expect(report.exitCode == 0)
        #expect(report.listUnavailable == "the list ignores its page parameter")
        #expect(requests.details == 150)
        #expect(funnel.approved == 100 && funnel.started == 150)
    }

    @Test("strangers' sessions and replaced ones are counted and never recorded")
    func strangers() async throws {
        let (report, requests, funnel) = try await Self.sync { sessions, request in
            guard request.page == 1 else { return Array(#"{"data":[],"meta":{"last_page":1}}"#.utf8) }
            let ours = Self.items(sessions)
            let theirs = #"{"id":"ses_x","external_id":"someone-else","status":"completed","decision":"declined"}"#
            let old = #"{"id":"ses_old","external_id":"s-1","status":"expired"}"#
            return Array(#"{"data":[\#(theirs),\#(ours),\#(old)],"meta":{"last_page":1}}"#.utf8)
        }
        #expect(report.tally.foreign == 1 && report.tally.otherSessions == 1 && report.tally.matched == 250)
        #expect(requests.lists == 1 && requests.details == 0)
        #expect(funnel.approved == 250 && funnel.declined == 0 && funnel.expiredUnused == 0)
    }

    @Test("a completion of an earlier session counts, and completion sticks: the verified applicant is never reissued")
    func earlierSessionCompleted() async throws {
        // Every link is born expired: without the completion, every run would reissue.
        let inner = FakeSessionsAPI { request, _ in FakeSessionsAPI.created(request, expiresAt: "2000-01-01T00:00:00Z")
        }
        let api = ListingAPI(inner: inner) { sessions, _ in
            guard sessions.count >= 2 else { return Array(#"{"data":[],"meta":{"last_page":1}}"#.utf8) }
            let current = #"{"id":"\#(sessions[1].id)","external_id":"m-1","status":"created"}"#
            let first = #"{"id":"\#(sessions[0].id)","external_id":"m-1","status":"completed","decision":"approved"}"#
            return Array(#"{"data":[\#(current),\#(first),\#(current)],"meta":{"last_page":1}}"#.utf8)
        }
        let harness = RunnerHarness(inputs: ["a.csv": "external_id,applicant_email\nm-1,m@example.com\n"])
        #expect(try await harness.run(api: api).counts.created == 1)
        #expect(try await harness.run(api: api).counts.reissued == 1)
        let report = try await SyncRunner(job: harness.job, api: api, clock: TestClock(), logger: Logger(label: "t"))
            .run()
        #expect(report.tally.completedEarlier == 1 && report.tally.regressions == 1)
        let rerun = try await harness.run(api: api)
        #expect(rerun.counts.reissued == 0 && rerun.counts.existing == 1)
        #expect(inner.requests.count == 2)
        #expect(try harness.outputRows.map { $0["status"] } == ["completed"])
        let funnel = try await SQLiteLedger(path: harness.job.ledgerPath).funnel()["test"]
        #expect(funnel?.approved == 1)
    }

    @Test("a stop request ends a sync that waits out a 429's long Retry-After", .timeLimit(.minutes(1)))
    func stopDuringRateLimit() async throws {
        struct Limited: SessionsAPI {
            let arrived: AsyncStream<Void>.Continuation
            func createSession(_ request: CreateSessionRequest) async throws -> APIResponse { APIResponse(status: 500) }
            func listSessions(_ request: SessionListRequest) async throws -> APIResponse {
                arrived.yield()
                return APIResponse(status: 429, retryAfter: "300")
            }
            func session(id: String) async throws -> APIResponse { APIResponse(status: 429, retryAfter: "300") }
        }
        let harness = RunnerHarness(inputs: ["a.csv": "external_id,applicant_email\nq-1,q@example.com\n"])
        #expect(try await harness.run(FakeSessionsAPI()).counts.created == 1)
        let arrived = AsyncStream<Void>.makeStream()
        let control = RunControl()
        // On a clock that never moves, the pause for Retry-After ends only by cancellation.
        async let sync = SyncRunner(
            job: harness.job, api: Limited(arrived: arrived.continuation), clock: StillClock(), control: control,
            logger: Logger(label: "t")
        ).run()
        for await _ in arrived.stream { break }
        control.requestStop(.interrupt)
        let report = try await sync
        #expect(report.exitCode == 130)
        #expect(report.requests == 1)
        // The stop ended it, not the test's time limit.
        #expect(!Task.isCancelled)
    }

    @Test("an API that keeps failing: exit 69, nothing recorded, and the report says to sync again")
    func failingAPI() async throws {
        struct Failing: SessionsAPI {
            func createSession(_ request: CreateSessionRequest) async throws -> APIResponse { APIResponse(status: 500) }
            func listSessions(_ request: SessionListRequest) async throws -> APIResponse { APIResponse(status: 502) }
            func session(id: String) async throws -> APIResponse { APIResponse(status: 502) }
        }
        let harness = RunnerHarness(inputs: ["a.csv": "external_id,applicant_email\nz-1,z@example.com\n"])
        #expect(try await harness.run(FakeSessionsAPI()).counts.created == 1)
        let report = try await SyncRunner(
            job: harness.job, api: Failing(), clock: TestClock(), logger: Logger(label: "t")
        )
        .run()
        #expect(report.exitCode == 69)
        #expect(report.stoppedBecause?.hasSuffix("what was learnt is kept: run sync again later") == true)
        #expect(report.requests == harness.job.api.maxAttempts)
        #expect(try await SQLiteLedger(path: harness.job.ledgerPath).funnel()["test"]?.neverSynced == 1)
    }
}

/// A clock on which no time passes: a sleep ends only when its task is cancelled.
private final class StillClock: Clock, Sendable {
    var now: ContinuousClock.Instant { ContinuousClock.Instant.now }
    var minimumResolution: Duration { .nanoseconds(1) }

    func sleep(until deadline: ContinuousClock.Instant, tolerance: Duration?) async throws {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        await withTaskCancellationHandler {
            for await _ in stream {}
        } onCancel: {
            continuation.finish()
        }
        try Task.checkCancellation()
    }
}
