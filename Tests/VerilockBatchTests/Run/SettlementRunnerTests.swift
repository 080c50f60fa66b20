import Foundation
import GRDB
import Logging
import Synchronization
import Testing

@testable import VerilockBatch

/// Settling unknown outcomes through the whole runner: the default `auto` mode, changed data,
/// carried-over rows, dead links on arrival, unreadable successes and redirects.
@Suite("Settlement through the runner")
struct SettlementRunnerTests {
    static func csv(_ rows: ClosedRange<Int>, email: String = "") -> String {
        "external_id,applicant_email\n" + rows.map { "u-\($0),\(email)user\($0)@example.com" }.joined(separator: "\n")
            + "\n"
    }

    struct Reset: Error {}

    @Test("auto: lost answers on a server that ignores keys are adopted by lookup, never created twice")
    func autoAdoptsOnKeyIgnoringServer() async throws {
        let harness = RunnerHarness(inputs: ["a.csv": Self.csv(1...10)])
        let firstAnswerLost = Mutex(Set<String>())
        let made = Mutex(0)
        let api = FakeSessionsAPI { request, _ in
            let id = made.withLock { made in
                made += 1
                return "ses_\(made)"
            }
            let body =
                #"{"id":"\#(id)","session_url":"https://verilock.io/verify/\#(id)","expires_at":"2099-01-01T00:00:00Z"}"#
            return APIResponse(status: 201, body: Array(body.utf8))
        } onCreated: { request in
            let first = firstAnswerLost.withLock { $0.insert(request.externalID).inserted }
            if first { throw Reset() }
        }
        let report = try await harness.run(api)
        #expect(report.exitCode == 0)
        #expect(api.requests.count == 10, "a create was sent again after its answer was lost")
        #expect(try Set(harness.outputRows.compactMap(\.["session_id"])) == Set((1...10).map { "ses_\($0)" }))
        #expect(report.lookupFallback == nil)
    }

    @Test("auto: without a lookup endpoint the run falls back to the key once, says so, and keeps going")
    func autoFallsBackToKey() async throws {
        let harness = RunnerHarness(inputs: ["a.csv": Self.csv(1...6)], concurrency: 1)
        let lostOnce = Mutex(Set<String>())
        let lookups = Mutex(0)
        let api = ScriptedLookupAPI(
            inner: FakeSessionsAPI { request, _ in
                FakeSessionsAPI.created(request)
            } onCreated: { request in
                if lostOnce.withLock({ $0.insert(request.externalID).inserted }) { throw Reset() }
            },
            list: { _ in
                lookups.withLock { $0 += 1 }
                return FakeSessionsAPI.error(404, code: "not_found", message: "no such route")
            })
        let report = try await harness.run(api: api)
        #expect(report.exitCode == 0)
        #expect(lookups.withLock { $0 } == 1, "only the first lookup is tried")
        #expect(report.lookupFallback?.contains("404") == true)
        #expect(report.summary.contains("settlement  by Idempotency-Key only"))
        #expect(api.inner.requests.count == 12)
        #expect(try harness.outputRows.count == 6)
    }

    @Test("a pending row whose e-mail changed is settled with its first body and written as existing")
    func changedWhilePending() async throws {
        var harness = RunnerHarness(inputs: ["a.csv": Self.csv(1...3)])
        // The nightly job's setting: only links this run is the first to write.
        harness.job.include = .new
        // First run: every answer is lost after the session is made; the rows stay pending.
        let down = FakeSessionsAPI { request, _ in
            FakeSessionsAPI.created(request)
        } onCreated: { _ in
            throw Reset()
        }
        harness.job.api.maxAttempts = 1
        let first = try await harness.run(down)
        #expect(first.exitCode == 69)
        let firstBodies = down.requests.map(\.body)
        harness.folder.write("a.csv", Self.csv(1...3, email: "new."))
        let api = FakeSessionsAPI()
        let second = try await harness.run(api)
        #expect(second.exitCode == 0)
        // Settled by resending the first body with the first key, not the new data.
        for request in api.requests {
            #expect(firstBodies.contains(request.body), "a body with the new data was sent")
        }
        #expect(try harness.outputRows.map(\.["status"]) == ["existing", "existing", "existing"])
        #expect(second.counts.existing == 3)
    }
}

extension SettlementRunnerTests {
    @Test("a 3xx stops the run with exit 78 naming the Location; no row is marked failed")
    func redirectStops() async throws {
        let harness = RunnerHarness(inputs: ["a.csv": Self.csv(1...5)], concurrency: 1)
        let api = FakeSessionsAPI { _, _ in
            APIResponse(status: 301, location: "https://login.example.com/api/v1/sessions")
        }
        let report = try await harness.run(api)
        #expect(report.exitCode == 78)
        #expect(report.stoppedBecause?.contains("https://login.example.com/api/v1/sessions") == true)
        #expect(report.counts.failed == 0)
        #expect(report.counts.pending == 5)
        #expect(try harness.rejectRows.map(\.["reason"]) == Array(repeating: "pending", count: 5))
        #expect(api.requests.count == 1)
    }

    @Test("a replayed session that has expired since is reissued in the same run", arguments: [1, 8])
    func expiredOnArrivalIsReissued(concurrency: Int) async throws {
        var harness = RunnerHarness(inputs: ["a.csv": Self.csv(1...2)], concurrency: concurrency)
        harness.job.api.maxAttempts = 1
        harness.job.api.unknownOutcome = .idempotencyKey
        let now = Date(timeIntervalSince1970: 2_000_000_000)
        // First run: the sessions are made with a link valid for an hour, and the answers lost.
        let lost = FakeSessionsAPI { request, _ in
            FakeSessionsAPI.created(request, expiresAt: Timestamp.string(now.addingTimeInterval(3600)))
        } onCreated: { _ in
            throw Reset()
        }
        #expect(try await harness.run(lost, now: now).exitCode == 69)
        // The next run is two hours later: the key replays the dead sessions.
        let replaying = FakeSessionsAPI { request, _ in
            request.idempotencyKey == lost.requests.first { $0.externalID == request.externalID }?.idempotencyKey
                ? FakeSessionsAPI.created(request, expiresAt: Timestamp.string(now.addingTimeInterval(3600)))
                : FakeSessionsAPI.created(request)
        }
        let later = try await harness.run(replaying, now: now.addingTimeInterval(7200))
        #expect(later.exitCode == 0)
        #expect(later.counts.reissued == 2)
        #expect(try harness.outputRows.map(\.["status"]) == ["reissued", "reissued"])
        #expect(try harness.outputRows.allSatisfy { $0["expires_at"] == "2099-01-01T00:00:00Z" })
        #expect(replaying.requests.count == 4)
        #expect(Set(replaying.requests.map(\.idempotencyKey)).count == 4)
        let ledger = try SQLiteLedger(path: harness.job.ledgerPath)
        #expect(try ledger.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM pending_create") } == 0)
        #expect(try await ledger.status(now: now).applicants == ["created": 2])
    }

    @Test("the same under reissue_expired false: the row is rejected as expired")
    func expiredOnArrivalIsRejected() async throws {
        var harness = RunnerHarness(inputs: ["a.csv": Self.csv(1...1)], concurrency: 1)
        harness.job.api.maxAttempts = 1
        harness.job.api.unknownOutcome = .idempotencyKey
        harness.job.policy.reissueExpired = false
        let now = Date(timeIntervalSince1970: 2_000_000_000)
        let expiring: @Sendable (CreateSessionRequest) -> APIResponse = { request in
            FakeSessionsAPI.created(request, expiresAt: Timestamp.string(now.addingTimeInterval(3600)))
        }
        let lost = FakeSessionsAPI { request, _ in
            expiring(request)
        } onCreated: { _ in
            throw Reset()
        }
        #expect(try await harness.run(lost, now: now).exitCode == 69)
        let report = try await harness.run(FakeSessionsAPI { request, _ in expiring(request) }, now: now + 7200)
        #expect(report.exitCode == 1)
        #expect(try harness.outputRows.isEmpty)
        #expect(try harness.rejectRows.map(\.["reason"]) == ["expired"])
    }

    @Test("a 2xx without a usable session is settled by lookup; unsettled after max_attempts runs, the row fails")
    func unreadableSuccess() async throws {
        var harness = RunnerHarness(inputs: ["a.csv": Self.csv(1...1)], concurrency: 1)
        harness.job.api.maxAttempts = 2
        // A lookup finds the session the unreadable answer stood for.
        let adopting = FakeSessionsAPI { _, _ in
            APIResponse(status: 201, requestID: "req_x", body: Array("<html>".utf8))
        }
        let found = ScriptedLookupAPI(inner: adopting) { id in
            APIResponse(
                status: 200,
                body: Array(
                    #"{"data":[{"id":"ses_9","external_id":"\#(id)","session_url":"https://verilock.io/v/9"}]}"#.utf8))
        }
        let report = try await harness.run(api: found)
        #expect(report.exitCode == 0)
        #expect(try harness.outputRows.map(\.["session_id"]) == ["ses_9"])
        #expect(adopting.requests.count == 1)

        // Without anything to find, the row stays pending, then fails after two runs.
        var other = RunnerHarness(inputs: ["a.csv": Self.csv(1...1)], concurrency: 1)
        other.job.api.maxAttempts = 2
        let empty = ScriptedLookupAPI(inner: adopting) { _ in
            APIResponse(status: 200, body: Array(#"{"data":[]}"#.utf8))
        }
        #expect(try await other.run(api: empty).exitCode == 69)
        let last = try await other.run(api: empty)
        #expect(last.exitCode == 1)
        let reject = try #require(try other.rejectRows.first)
        #expect(reject["reason"] == "failed")
        #expect(reject["error"]?.contains("without a usable session in 2 runs") == true)
        #expect(reject["error"]?.contains("req_x") == true)
    }

    @Test("finished outcomes are committed within a second while another request hangs")
    func outcomesCommittedOnATimer() async throws {
        let harness = RunnerHarness(inputs: ["a.csv": Self.csv(1...2)], concurrency: 2)
        let release = AsyncStream<Void>.makeStream()
        let api = FakeSessionsAPI { request, _ in
            if request.externalID == "u-2" {
                for await _ in release.stream { break }
            }
            return FakeSessionsAPI.created(request)
        }
        let flushClock = TestClock()
        let run = Task {
            try await BatchRunner(
                job: harness.job, api: api, clock: TestClock(), flushClock: flushClock, now: { Date() },
                jitter: { 0.5 }, logger: Logger(label: "test")
            ).run()
        }
        // u-1 is answered while u-2 hangs: the flush timer commits it without another event.
        var committed = false
        var ledger: SQLiteLedger?
        for _ in 0..<100_000 where !committed {
            await Task.yield()
            if ledger == nil, api.requests.count == 2 { ledger = try SQLiteLedger(path: harness.job.ledgerPath) }
            let state = try ledger?.read { db in
                try String.fetchOne(db, sql: "SELECT state FROM applicant WHERE external_id = 'u-1'")
            }
            committed = state == "created"
        }
        release.continuation.yield()
        release.continuation.finish()
        let report = try await run.value
        #expect(committed, "u-1's outcome was not committed while u-2 was in flight")
        #expect(report.exitCode == 0)
    }
}

extension SettlementRunnerTests {
    @Test("a row is marked attempted only as its request leaves, not while it waits its turn")
    func attemptedAsItLeaves() async throws {
        let harness = RunnerHarness(inputs: ["a.csv": Self.csv(1...3)], concurrency: 1)
        let release = AsyncStream<Void>.makeStream()
        let arrived = AsyncStream<Void>.makeStream()
        let api = FakeSessionsAPI { request, _ in
            if request.externalID == "u-1" {
                arrived.continuation.yield()
                for await _ in release.stream { break }
            }
            return FakeSessionsAPI.created(request)
        }
        let run = Task { try await harness.run(api) }
        var attempted: [String] = []
        // u-1's request has left (and waits): u-2 and u-3 wait their turn behind it.
        for await _ in arrived.stream { break }
        let ledger = try SQLiteLedger(path: harness.job.ledgerPath)
        attempted = try ledger.read { db in
            try String.fetchAll(
                db, sql: "SELECT external_id FROM pending_create WHERE attempted = 1 ORDER BY external_id")
        }
        release.continuation.yield()
        release.continuation.finish()
        #expect(try await run.value.exitCode == 0)
        #expect(api.requests.count == 3)
        #expect(attempted == ["u-1"])
    }
}

extension SettlementRunnerTests {
    /// A server that honours keys: a key seen before with another body is refused with 422.
    static func keyHonouringAPI() -> FakeSessionsAPI {
        let bodies = Mutex([String: [UInt8]]())
        return FakeSessionsAPI { request, _ in
            let earlier = bodies.withLock { bodies in
                defer { if bodies[request.idempotencyKey] == nil { bodies[request.idempotencyKey] = request.body } }
                return bodies[request.idempotencyKey]
            }
            if let earlier, earlier != request.body {
                return FakeSessionsAPI.error(422, code: "idempotency_key_reused", message: "other body")
            }
            return FakeSessionsAPI.created(request)
        }
    }

    @Test("a key the API already used with other data: the session is found by lookup, not made again")
    func keyReusedIsAdopted() async throws {
        let api = Self.keyHonouringAPI()
        let harness = RunnerHarness(inputs: ["a.csv": Self.csv(1...3)])
        #expect(try await harness.run(api).exitCode == 0)
        let first = try harness.outputRows.map(\.["session_id"])
        // The ledger is lost and the e-mails change.
        try FileManager.default.removeItem(atPath: harness.job.ledgerPath)
        harness.folder.write("a.csv", Self.csv(1...3, email: "new."))
        let report = try await harness.run(api)
        #expect(report.exitCode == 0)
        #expect(try harness.outputRows.map(\.["session_id"]) == first)
        // One session per applicant: the three 201s of the first run.
        #expect(api.requests.filter { !$0.body.contains(Array("new.".utf8)) }.count == 3)
        #expect(Set(first.compactMap { $0 }).count == 3)
    }

    @Test("without a lookup, a reused key fails the row for good: retry_failed always makes no second session")
    func keyReusedIsNeverRetried() async throws {
        let inner = Self.keyHonouringAPI()
        let api = ScriptedLookupAPI(inner: inner) { _ in FakeSessionsAPI.error(404, code: "not_found", message: "none")
        }
        var harness = RunnerHarness(inputs: ["a.csv": Self.csv(1...2)])
        #expect(try await harness.run(api: api).exitCode == 0)
        try FileManager.default.removeItem(atPath: harness.job.ledgerPath)
        harness.folder.write("a.csv", Self.csv(1...2, email: "new."))
        #expect(try await harness.run(api: api).exitCode == 1)
        let sent = inner.requests.count
        harness.job.policy.retryFailed = .always
        let third = try await harness.run(api: api)
        #expect(third.exitCode == 1)
        #expect(inner.requests.count == sent, "a new generation was created")
        #expect(try harness.rejectRows.allSatisfy { $0["error"]?.contains("never retried automatically") == true })
    }

    @Test("include new: sessions made by a run that died before writing its output are written by the next run")
    func undeliveredAreWritten() async throws {
        var harness = RunnerHarness(inputs: ["a.csv": Self.csv(1...3)])
        harness.job.include = .new
        let api = FakeSessionsAPI()
        #expect(try await harness.run(api).exitCode == 0)
        // As if the run had died before writing its files.
        let ledger = try SQLiteLedger(path: harness.job.ledgerPath)
        try ledger.write { db in try db.execute(sql: "UPDATE run SET finished_at = NULL, exit_code = NULL") }
        let second = try await harness.run(api)
        #expect(second.exitCode == 0)
        #expect(try harness.outputRows.map(\.["status"]) == ["created", "created", "created"])
        #expect(api.requests.count == 3)
        // Delivered now: the run after writes nothing new.
        #expect(try await harness.run(api).exitCode == 0)
        #expect(try harness.outputRows.isEmpty)
    }
}

/// A fake whose creates and detail fetches are `inner`'s and whose lookups answer as `list` says.
struct ScriptedLookupAPI: SessionsAPI {
    let inner: FakeSessionsAPI
    let list: @Sendable (String) -> APIResponse

    func createSession(_ request: CreateSessionRequest) async throws -> APIResponse {
        try await inner.createSession(request)
    }

    func listSessions(_ request: SessionListRequest) async throws -> APIResponse { list(request.externalID ?? "") }

    func session(id: String) async throws -> APIResponse { try await inner.session(id: id) }
}
