import Foundation
import Testing

@testable import VerilockBatch

/// Which ledger a contract test runs on.
enum LedgerBackend: String, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// SQLite always; PostgreSQL when the tests have a server (``PostgresTestServer``).
    static var available: [LedgerBackend] { PostgresTestServer.isConfigured ? [.sqlite, .postgres] : [.sqlite] }

    /// A new, empty ledger of this backend.
    func makeLedger(in folder: TemporaryDirectory) async throws -> any Ledger {
        switch self {
        case .sqlite: try await SQLiteLedger.open(path: folder.path + "/ledger.sqlite")
        case .postgres: try await PostgresTestServer.open(try await PostgresTestServer.freshDatabase())
        }
    }
}

/// The same ledger behaviour, through the ``Ledger`` protocol alone, on every backend.
@Suite("Ledger contract")
struct LedgerContractTests {
    let folder = TemporaryDirectory()
    static let start = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01

    /// The plan of a row to create: its intent (key, body, fingerprint) and its record.
    static func create(_ externalID: String, seq: Int64, generation: Int = 1) -> PlannedRow {
        var plan = PlannedRow(seq: seq, fileIndex: 0, line: Int(seq) + 2, externalID: externalID, outcome: .create)
        plan.email = "\(externalID)@example.com"
        plan.name = "Name \(externalID)"
        plan.record = InputRecordText.encode(values: [externalID, "\(externalID)@example.com"])
        plan.intent = PlannedRow.Intent(
            generation: generation, idempotencyKey: "key-\(externalID)-\(generation)",
            fingerprint: String(repeating: "ab", count: 32), body: Array("{\"external_id\":\"\(externalID)\"}".utf8),
            replacesSession: generation > 1)
        return plan
    }

    static func session(_ externalID: String, expires: String = "2026-01-08T00:00:00Z") -> CreatedSession {
        CreatedSession(
            id: "ses_\(externalID)", sessionToken: "tok_\(externalID)",
            sessionURL: "https://verilock.io/verify/\(externalID)", status: "created", expiresAt: expires)
    }

    @Test(
        "a run plans, sends and records; reading, counts, status, funnel, sync, carry-over and retention agree",
        arguments: LedgerBackend.available)
    func wholeLife(backend: LedgerBackend) async throws {
        let ledger = try await backend.makeLedger(in: folder)
        let runID = try await ledger.startRun(
            job: "nightly", inputs: [("in.csv", 120)], simulated: false, now: Self.start)
        // Plan: a, b and c to create, d invalid.
        let found = try await ledger.planRun(runID: runID) { planning -> [ApplicantEntry?] in
            let entries = try planning.entries(for: ["a", "b", "c"])
            var invalid = PlannedRow(seq: 3, fileIndex: 0, line: 5, outcome: .invalid)
            invalid.message = "applicant_email 'x' is not an e-mail address"
            invalid.record = InputRecordText.encode(values: ["d", "x"])
            try planning.recordLayout(fileIndex: 0, columns: ["external_id", "applicant_email"])
            try planning.record(
                [Self.create("a", seq: 0), Self.create("b", seq: 1), Self.create("c", seq: 2), invalid],
                now: Self.start)
            try planning.recordInputRead(fileIndex: 0, sha256: "00ff", rows: 4, existing: 0)
            return entries
        }
        #expect(found.allSatisfy { $0 == nil })
        // Send: a is created, b refused for good, c left without an answer.
        let pending = try await ledger.pendingCreates(after: 0, limit: 10)
        #expect(pending.map(\.request.externalID) == ["a", "b", "c"])
        #expect(pending.map(\.request.idempotencyKey) == ["key-a-1", "key-b-1", "key-c-1"])
        #expect(pending.first?.request.body == Array("{\"external_id\":\"a\"}".utf8))
        for create in pending { try await ledger.markAttempted(create, at: Self.start) }
        #expect(try await ledger.pendingCreates(after: 0, limit: 10).allSatisfy(\.attempted))
        try await ledger.record(
            [
                (pending[0], .created(Self.session("a"))),
                (
                    pending[1],
                    .failed(APIFailure(status: 422, code: "validation_error", message: "bad", requestID: "r1"))
                ),
                (pending[2], .unresolved(APIFailure(status: 503, code: nil, message: "unavailable", requestID: nil))),
            ], runID: runID, now: Self.start)
        // Read back what the output and rejects files are made of.
        let (outputs, rejects, counts, inputs) = try await ledger.reading { reading in
            var outputs: [OutputRow] = []
            var rejects: [RejectRow] = []
            try reading.forEachOutputRow(runID: runID) { outputs.append($0) }
            try reading.forEachReject(runID: runID) { rejects.append($0) }
            return (outputs, rejects, try reading.counts(runID: runID), try reading.inputFiles(runID: runID))
        }
        #expect(outputs.map(\.externalID) == ["a"])
        #expect(outputs.first?.sessionURL == "https://verilock.io/verify/a" && outputs.first?.status == .created)
        #expect(outputs.first?.email == "a@example.com" && outputs.first?.layout == ["external_id", "applicant_email"])
        #expect(rejects.map(\.externalID) == ["b", "c", nil])
        #expect(rejects.map(\.reason) == [.failed, .pending, .invalid])
        #expect(rejects.last?.line == 5)
        #expect(counts.created == 1 && counts.failed == 1 && counts.pending == 1 && counts.invalid == 1)
        #expect(inputs.map(\.sha256) == ["00ff"] && inputs.first?.rows == 4)
        try await ledger.finishRun(runID, exitCode: 1, counts: counts, now: Self.start)

        // The next run: c is carried over (its row is not in the input), a and b are known.
        let later = Self.start.addingTimeInterval(86_400)
        let next = try await ledger.startRun(job: "nightly", inputs: [("in.csv", 100)], simulated: false, now: later)
        let (entries, carried) = try await ledger.planRun(runID: next) { planning in
            (
                try planning.entries(for: ["b", "zzz", "a"]),
                try planning.recordCarriedOver(firstSeq: 0, firstFileIndex: 1, shard: nil)
            )
        }
        #expect(entries[0]?.state == .failed && entries[0]?.failure?.code == "validation_error")
        #expect(entries[0]?.fingerprint == String(repeating: "ab", count: 32))
        #expect(entries[1] == nil)
        #expect(entries[2]?.state == .created && entries[2]?.session?.url == "https://verilock.io/verify/a")
        #expect(carried.rows == 1 && carried.pending == 1)
        try await ledger.finishRun(next, exitCode: 0, counts: RunCounts(), now: later)

        // Status and funnel.
        var status = try await ledger.status(now: later)
        #expect(status.applicants == ["created": 1, "failed": 1, "pending": 1])
        #expect(status.sessions == 1 && status.runs.map(\.id) == [next, runID])
        #expect(status.pending.map(\.externalID) == ["c"])
        #expect(try await ledger.funnel()["nightly"]?.neverSynced == 1)

        // Sync: a's session is completed and approved.
        #expect(try await ledger.openSessionsSummary()?.count == 1)
        let open = try await ledger.openSessions(notSyncedSince: later, after: 0, limit: 10)
        #expect(open.map(\.sessionID) == ["ses_a"])
        let tally = try await ledger.record(
            reports: [
                SessionReport(
                    id: "ses_a", externalID: "a", status: "completed", decision: "approved",
                    completedAt: "2026-01-02T00:00:00Z"),
                SessionReport(id: "ses_x", externalID: "stranger", status: "created"),
            ], now: later)
        #expect(tally.matched == 1 && tally.changed == 1 && tally.foreign == 1)
        #expect(try await ledger.funnel()["nightly"]?.approved == 1)
        #expect(try await ledger.openSessionsSummary() == nil)
        let completed = try await ledger.reading { reading in
            var rows: [OutputRow] = []
            try reading.forEachSession(SessionSelection(status: .approved, now: later)) { rows.append($0) }
            return rows
        }
        #expect(completed.map(\.externalID) == ["a"] && completed.first?.status == .completed)

        // Retention: a week after a's link expired and b failed, their personal data goes; the
        // ledger stays sound.
        let retention = RetentionPolicy(runs: .seconds(86_400), personalData: .seconds(86_400))
        let dry = try await ledger.prune(retention: retention, now: later.addingTimeInterval(14 * 86_400), dryRun: true)
        #expect(dry.applicantsErased == 2)
        let pruned = try await ledger.prune(
            retention: retention, now: later.addingTimeInterval(14 * 86_400), dryRun: false)
        #expect(pruned.applicantsErased == 2 && pruned.runRows > 0)
        status = try await ledger.status(now: later)
        #expect(status.erased == 2)
        let check = try await ledger.check()
        #expect(check.isSound, "\(check.problems)")
        #expect(check.applicants == ["created": 1, "failed": 1, "pending": 1])
    }

    @Test("a dry run plans inside a transaction that leaves the ledger as it was", arguments: LedgerBackend.available)
    func dryRun(backend: LedgerBackend) async throws {
        let ledger = try await backend.makeLedger(in: folder)
        let planned = try await ledger.planDryRun(job: "nightly", now: Self.start) { planning, runID in
            try planning.record([Self.create("a", seq: 0)], now: Self.start)
            return (runID, try planning.entries(for: ["a"]).first??.state)
        }
        #expect(planned.1 == .pending)
        #expect(try await ledger.pendingCreates(after: 0, limit: 10).isEmpty)
        #expect(try await ledger.status(now: Self.start).runs.isEmpty)
    }

    @Test(
        "a session that arrived expired is reissued in place: the old one goes to the history",
        arguments: LedgerBackend.available)
    func reissueOnArrival(backend: LedgerBackend) async throws {
        let ledger = try await backend.makeLedger(in: folder)
        let runID = try await ledger.startRun(job: "nightly", inputs: [], simulated: false, now: Self.start)
        try await ledger.planRun(runID: runID) { planning in
            try planning.record([Self.create("a", seq: 0)], now: Self.start)
        }
        let first = try #require(try await ledger.pendingCreates(after: 0, limit: 1).first)
        var next = first
        next.generation = 2
        next.request = CreateSessionRequest(externalID: "a", idempotencyKey: "key-a-2", body: first.request.body)
        try await ledger.record(
            [(first, .created(Self.session("a", expires: "2025-12-31T00:00:00Z")))],
            expired: [.reissue(next)], runID: runID, now: Self.start)
        let again = try await ledger.pendingCreates(after: 0, limit: 10)
        #expect(again.map(\.request.idempotencyKey) == ["key-a-2"])
        #expect(again.first?.knownSessionIDs == ["ses_a"])
        #expect(try await ledger.status(now: Self.start).sessions == 1)
        #expect(try await ledger.check().isSound)
    }

    /// Fills `ledger` with one run: a created (and later approved), b refused, c pending, d invalid.
    static func fill(_ ledger: any Ledger) async throws -> Int64 {
        let runID = try await ledger.startRun(job: "nightly", inputs: [("in.csv", 120)], simulated: false, now: start)
        try await ledger.planRun(runID: runID) { planning in
            var invalid = PlannedRow(seq: 3, fileIndex: 0, line: 5, outcome: .invalid)
            invalid.message = "bad"
            try planning.record(
                [Self.create("a", seq: 0), Self.create("b", seq: 1), Self.create("c", seq: 2), invalid], now: start)
        }
        let pending = try await ledger.pendingCreates(after: 0, limit: 10)
        try await ledger.record(
            [
                (pending[0], .created(Self.session("a"))),
                (
                    pending[1],
                    .failed(APIFailure(status: 422, code: "validation_error", message: "bad", requestID: nil))
                ),
            ], runID: runID, now: start)
        try await ledger.finishRun(runID, exitCode: 1, counts: RunCounts(), now: start)
        _ = try await ledger.record(
            reports: [SessionReport(id: "ses_a", externalID: "a", status: "completed", decision: "approved")],
            now: start)
        return runID
    }

    @Test(
        "ledger copy moves a ledger from SQLite to PostgreSQL and back, ids and all; a target that holds anything is refused",
        .enabled(if: PostgresTestServer.isConfigured))
    func copyBetweenBackends() async throws {
        let sqlite = try await SQLiteLedger.open(path: folder.path + "/from.sqlite")
        let runID = try await Self.fill(sqlite)
        let postgres = try await PostgresTestServer.open(try await PostgresTestServer.freshDatabase())
        let copied = try await LedgerCopy(from: sqlite, to: postgres).run()
        #expect(copied["applicant"] == 3 && copied["run"] == 1 && copied["pending_create"] == 1)
        let back = try await SQLiteLedger.open(path: folder.path + "/back.sqlite")
        _ = try await LedgerCopy(from: postgres, to: back).run()
        for ledger in [postgres as any Ledger, back] {
            #expect(try await ledger.check().isSound)
            let status = try await ledger.status(now: Self.start)
            #expect(status.applicants == ["created": 1, "failed": 1, "pending": 1])
            #expect(status.runs.map(\.id) == [runID])
            #expect(try await ledger.funnel()["nightly"]?.approved == 1)
            let entries = try await ledger.reading { try $0.entries(for: ["a", "b", "c"]) }
            #expect(entries[0]?.session?.url == "https://verilock.io/verify/a")
            #expect(entries[1]?.failure?.code == "validation_error")
            #expect(entries[2]?.fingerprint == String(repeating: "ab", count: 32))
            #expect(try await ledger.pendingCreates(after: 0, limit: 10).map(\.request.idempotencyKey) == ["key-c-1"])
            // The next run's id follows the copied ones.
            #expect(
                try await ledger.startRun(job: "nightly", inputs: [], simulated: false, now: Self.start) == runID + 1)
        }
        await #expect(throws: LedgerError.self) { try await LedgerCopy(from: sqlite, to: back).run() }
        await postgres.close()
    }
}
