import Foundation
import Synchronization
import Testing

@testable import VerilockBatch

@Suite("Batch runner with a scripted API")
struct BatchRunnerTests {
    static func csv(rows: Int) -> String {
        "external_id,applicant_email\n" + (1...rows).map { "u-\($0),user\($0)@example.com" }.joined(separator: "\n")
            + "\n"
    }

    @Test("every valid row gets a session, in input order; bad rows go to rejects; exit 1")
    func messyInput() async throws {
        let harness = RunnerHarness(inputs: [
            "a.csv": "external_id,applicant_email\nu-1,a@example.com\nu-2,bad-email\nu-3,\nu-1,again@example.com\n",
            "b.ndjson": "{\"external_id\": 4}\n{\"external_id\": true}\nnot json\n",
        ])
        let api = FakeSessionsAPI()
        let report = try await harness.run(api)
        #expect(report.exitCode == 1)
        #expect(try harness.outputRows.map { $0["external_id"] } == ["u-1", "u-3", "4"])
        #expect(
            try harness.outputRows.allSatisfy {
                $0["status"] == "created" && $0["session_url"]?.hasPrefix("https://") == true
            })
        #expect(try harness.rejectRows.map { $0["line"] } == ["3", "5", "2", "3"])
        #expect(try harness.rejectRows.map { $0["reason"] } == ["invalid", "duplicate", "invalid", "invalid"])
        #expect(api.requests.count == 3)
        #expect(try report.counts.rowsRead == harness.outputRows.count + harness.rejectRows.count)
    }

    @Test("a rerun of the same file sends nothing and writes the same output, all existing")
    func rerun() async throws {
        let harness = RunnerHarness(inputs: ["a.csv": Self.csv(rows: 25)])
        let api = FakeSessionsAPI()
        let first = try await harness.run(api)
        #expect(first.exitCode == 0)
        let firstOutput = try harness.outputRows
        let second = try await harness.run(api)
        #expect(second.exitCode == 0)
        #expect(api.requests.count == 25)
        #expect(try harness.outputRows.map { $0["session_id"] } == firstOutput.map { $0["session_id"] })
        #expect(try harness.outputRows.allSatisfy { $0["status"] == "existing" })
    }

    @Test("peak concurrency never exceeds the limit", arguments: [1, 3, 8])
    func concurrencyLimit(limit: Int) async throws {
        let harness = RunnerHarness(inputs: ["a.csv": Self.csv(rows: 60)], concurrency: limit)
        let inFlight = InFlightCounter()
        let api = FakeSessionsAPI { request, _ in
            inFlight.enter()
            defer { inFlight.leave() }
            // Hold each request, without sleeping, until `limit` are in flight together (or give
            // up after a bounded number of yields, and the peak below comes out short).
            var tries = 0
            while inFlight.peak < limit, tries < 100_000 {
                await Task.yield()
                tries += 1
            }
            return FakeSessionsAPI.created(request)
        }
        let report = try await harness.run(api)
        #expect(report.exitCode == 0)
        #expect(api.peakConcurrency == limit)
        #expect(try harness.outputRows.count == 60)
    }

    @Test("a revoked key stops the run with 77 after at most `concurrency` requests; nothing is lost")
    func revokedKey() async throws {
        let harness = RunnerHarness(inputs: ["a.csv": Self.csv(rows: 200)], concurrency: 4)
        let api = FakeSessionsAPI { _, _ in FakeSessionsAPI.error(401, code: "unauthorized", message: "revoked") }
        let report = try await harness.run(api)
        #expect(report.exitCode == 77)
        #expect(api.requests.count <= 4)
        #expect(try harness.outputRows.isEmpty)
        #expect(try harness.rejectRows.count == 200)
        #expect(try harness.rejectRows.allSatisfy { $0["reason"] == "pending" })
    }

    @Test("a 422 fails the row with the API's message; the rest are created")
    func permanentFailure() async throws {
        let harness = RunnerHarness(inputs: ["a.csv": Self.csv(rows: 3)])
        let api = FakeSessionsAPI { request, _ in
            request.externalID == "u-2"
                ? FakeSessionsAPI.error(422, code: "validation_error", message: "bad redirect")
                : FakeSessionsAPI.created(request)
        }
        let report = try await harness.run(api)
        #expect(report.exitCode == 1)
        #expect(try harness.outputRows.map { $0["external_id"] } == ["u-1", "u-3"])
        #expect(try harness.rejectRows.first?["reason"] == "failed")
        #expect(try harness.rejectRows.first?["error"]?.contains("HTTP 422 validation_error: bad redirect") == true)
        // Unchanged data: the rerun does not send it again and reports the stored error.
        let rerun = try await harness.run(api)
        #expect(rerun.exitCode == 1)
        #expect(api.requests.filter { $0.externalID == "u-2" }.count == 1)
        #expect(try harness.rejectRows.first?["reason"] == "failed")
    }

    @Test("rows left without an answer stay pending (exit 69); the rerun resends them with the same key")
    func pendingThenSettled() async throws {
        let harness = RunnerHarness(inputs: ["a.csv": Self.csv(rows: 5)])
        struct Down: Error {}
        let failing = FakeSessionsAPI { _, _ in throw Down() }
        let first = try await harness.run(failing)
        #expect(first.exitCode == 69)
        #expect(try harness.rejectRows.allSatisfy { $0["reason"] == "pending" })
        let firstKeys = Set(failing.requests.map(\.idempotencyKey))
        #expect(firstKeys.count == 5)
        let healthy = FakeSessionsAPI()
        let second = try await harness.run(healthy)
        #expect(second.exitCode == 0)
        #expect(Set(healthy.requests.map(\.idempotencyKey)) == firstKeys)
        #expect(try harness.outputRows.count == 5)
    }

    @Test("a pending row keeps its Idempotency-Key even when the job's profile changed since")
    func pendingKeepsKey() async throws {
        var harness = RunnerHarness(inputs: ["a.csv": Self.csv(rows: 3)])
        struct Down: Error {}
        let failing = FakeSessionsAPI { _, _ in throw Down() }
        let first = try await harness.run(failing)
        #expect(first.exitCode == 69)
        harness.job.template.profileID = "00000000-0000-4000-8000-000000000001"
        let healthy = FakeSessionsAPI()
        let second = try await harness.run(healthy)
        #expect(second.exitCode == 0)
        #expect(Set(healthy.requests.map(\.idempotencyKey)) == Set(failing.requests.map(\.idempotencyKey)))
    }

    @Test("an expired link is reissued as generation 2 with a new key; the old session stays in the ledger")
    func reissue() async throws {
        let harness = RunnerHarness(inputs: ["a.csv": Self.csv(rows: 2)])
        let now = Date(timeIntervalSince1970: 1_900_000_000)
        let api = FakeSessionsAPI { request, _ in FakeSessionsAPI.created(request, expiresAt: "2030-01-01T00:00:00Z") }
        let first = try await harness.run(api, now: now)
        #expect(first.counts.created == 2)
        let later = FakeSessionsAPI()
        let report = try await harness.run(later, now: Date(timeIntervalSince1970: 1_950_000_000))
        #expect(report.counts.reissued == 2)
        #expect(try harness.outputRows.allSatisfy { $0["status"] == "reissued" })
        #expect(Set(later.requests.map(\.idempotencyKey)).isDisjoint(with: api.requests.map(\.idempotencyKey)))
        let ledger = try SQLiteLedger(path: harness.job.ledgerPath)
        #expect(try await ledger.status(now: Date()).sessions == 4)
        let generations = try ledger.read { db in try Int.fetchAll(db, sql: "SELECT generation FROM session") }
        #expect(generations == [1, 1])
        let replaced = try ledger.read { db in try String.fetchAll(db, sql: "SELECT id FROM session") }
        let firstSessions: [String] = api.requests.map { "ses_" + $0.idempotencyKey.suffix(16) }
        #expect(Set(replaced) == Set(firstSessions))
    }

    @Test("a missing input stops before anything is recorded or sent")
    func missingInput() async throws {
        var harness = RunnerHarness(inputs: ["a.csv": Self.csv(rows: 2)])
        harness.job.inputs.append(harness.folder.path + "/missing.csv")
        let api = FakeSessionsAPI()
        await #expect(throws: InputError.self) { _ = try await harness.run(api) }
        #expect(api.requests.isEmpty)
    }

    @Test("a CSV without the external_id column stops before anything is sent")
    func missingColumnStops() async throws {
        let harness = RunnerHarness(inputs: ["a.csv": "id,email\n1,a@example.com\n"])
        let api = FakeSessionsAPI()
        await #expect(throws: InputError.self) { _ = try await harness.run(api) }
        #expect(api.requests.isEmpty)
    }
}

/// Counts the requests in flight and the peak, across concurrent calls.
final class InFlightCounter: Sendable {
    private let counts = Mutex((current: 0, peak: 0))

    var peak: Int { counts.withLock { $0.peak } }

    func enter() {
        counts.withLock { counts in
            counts.current += 1
            counts.peak = max(counts.peak, counts.current)
        }
    }

    func leave() {
        counts.withLock { $0.current -= 1 }
    }
}
