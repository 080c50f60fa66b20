import Foundation
import GRDB
import Testing

@testable import VerilockBatch

@Suite("Ledger")
struct LedgerTests {
    let folder = TemporaryDirectory()

    @Test("a new ledger is created 0600 in a 0700 folder, in WAL mode")
    func creation() throws {
        let path = folder.path + "/deep/state/ledger.sqlite"
        let ledger = try SQLiteLedger(path: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let folderAttributes = try FileManager.default.attributesOfItem(atPath: folder.path + "/deep/state")
        #expect((folderAttributes[.posixPermissions] as? Int) == 0o700)
        let mode = try ledger.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test("a ledger from a newer tool is refused naming both schema versions, and left as it is")
    func tooNew() throws {
        let path = folder.path + "/new.sqlite"
        _ = try SQLiteLedger(path: path)
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('v9: from the future')") }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: LedgerError.tooNew(path: path, version: "v9: from the future", known: "v7: funnel counts")) {
            _ = try SQLiteLedger(path: path)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(ExitStatus(for: LedgerError.tooNew(path: path, version: "v9", known: "v4")) == .cannotWrite)
    }

    @Test("check counts what the ledger holds; backup writes a 0600 copy that checks alike, never over a file")
    func checkAndBackup() async throws {
        let ledger = try SQLiteLedger(path: folder.path + "/l.sqlite")
        let run = try await ledger.startRun(job: "t", inputs: [("a.csv", 10)], simulated: false, now: Date())
        try await Self.recordIntent(ledger, run: run, "u-1", key: "k1", body: [1])
        let check = try await ledger.check()
        #expect(check.isSound)
        #expect(check.applicants == ["pending": 1])
        #expect(check.runs == 1)
        #expect(check.schema == "v7: funnel counts" && check.toolSchema == check.schema)
        let copy = folder.path + "/backups/copy.sqlite"
        try await ledger.backup(to: copy)
        #expect((try FileManager.default.attributesOfItem(atPath: copy)[.posixPermissions] as? Int) == 0o600)
        var copied = try await SQLiteLedger(path: copy).check()
        copied.ledger = check.ledger
        copied.bytes = check.bytes
        #expect(copied == check)
        let sizeBefore = try FileManager.default.attributesOfItem(atPath: copy)[.size] as? Int
        await #expect(throws: LedgerError.self) { try await ledger.backup(to: copy) }
        #expect(try FileManager.default.attributesOfItem(atPath: copy)[.size] as? Int == sizeBefore)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path + "/backups") == ["copy.sqlite"])
    }

    @Test("a version 4 ledger migrates: a pending create keeps its key, body and attempt; e-mails come from runs")
    func migratesFromVersion4() async throws {
        let path = folder.path + "/v4.sqlite"
        try PrivateFiles.prepareFile(at: path)
        let queue = try DatabaseQueue(path: path)
        try LedgerSchema.migrator.migrate(queue, upTo: "v4: settlement")
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO run (job, started_at, host, pid) VALUES ('t', '2026-01-01T00:00:00Z', 'h', 1);
                    INSERT INTO applicant (external_id, state, generation, idempotency_key, fingerprint, request_body,
                        created_at, updated_at, run_id, attempted, attempted_epoch)
                        VALUES ('p-1', 'pending', 2, 'key-p', 'fp', X'7B7D', 't', '2026-01-02T00:00:00Z', 1, 1, 5.5);
                    INSERT INTO applicant (external_id, state, generation, idempotency_key, fingerprint, session_id,
                        session_url, session_token, expires_at, expires_epoch, created_at, updated_at, run_id)
                        VALUES ('c-1', 'created', 2, 'key-c', 'fc', 'ses_2', 'https://v/2', 'tok2', 'e', 99, 't', 't', 1);
                    INSERT INTO session (id, external_id, generation, url, token, created_at, run_id) VALUES
                        ('ses_0', 'p-1', 1, 'https://v/0', 'tok0', 't', 1),
                        ('ses_1', 'c-1', 1, 'https://v/1', 'tok1', 't', 1),
                        ('ses_2', 'c-1', 2, 'https://v/2', 'tok2', 't', 1);
                    INSERT INTO run_row (run_id, seq, file_index, line, external_id, outcome, applicant_email,
                        applicant_name, record) VALUES
                        (1, 0, 0, 2, 'p-1', 'create', 'p@example.com', 'Pat', '[["external_id","p-1"]]'),
                        (1, 1, 0, 3, 'c-1', 'existing', 'c@example.com', NULL, NULL);
                    """)
        }
        try queue.close()
        let ledger = try SQLiteLedger(path: path)
        #expect(try await ledger.check().isSound)
        let pending = try await ledger.pendingCreates(after: 0, limit: 10)
        #expect(pending.count == 1)
        #expect(
            pending.first?.request
                == CreateSessionRequest(externalID: "p-1", idempotencyKey: "key-p", body: [0x7B, 0x7D]))
        #expect(pending.first?.generation == 2 && pending.first?.attempted == true)
        #expect(pending.first?.knownSessionIDs == ["ses_0"])
        let people = try ledger.read { db in
            try Row.fetchAll(db, sql: "SELECT external_id, email, name, updated_epoch FROM applicant ORDER BY 1")
        }
        #expect(people.map { $0[1] as String? } == ["c@example.com", "p@example.com"])
        #expect(people.map { $0[3] as Int64 } == [0, 1_767_312_000])
        // The history keeps replaced sessions only; the current one is the applicant's.
        #expect(
            try ledger.read { db in try String.fetchAll(db, sql: "SELECT id FROM session ORDER BY id") } == [
                "ses_0", "ses_1",
            ])
        #expect(try await ledger.status(now: Date()).sessions == 3)
    }

    @Test("check reports a row that refers to nothing as a problem")
    func checkFindsOrphans() async throws {
        let path = folder.path + "/orphan.sqlite"
        _ = try SQLiteLedger(path: path)
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO run_input (run_id, file_index, path) VALUES (999, 0, 'a.csv')")
        }
        let check = try await SQLiteLedger(path: path).check()
        #expect(!check.isSound)
        #expect(check.problems == ["1 rows refer to rows that do not exist"])
        #expect(check.text.contains("integrity   1 problems:"))
    }

    @Test("check recounts the funnel the triggers keep, and reports counts that drifted")
    func checkRecountsTheFunnel() async throws {
        let path = folder.path + "/drift.sqlite"
        _ = try SQLiteLedger(path: path)
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO funnel_count (run_id, status, decision, applicants) VALUES (1, '', '', 5)")
        }
        try queue.close()
        let check = try await SQLiteLedger(path: path).check()
        #expect(check.problems == ["1 funnel counts (funnel_count) differ from the applicants they count"])
    }

    @Test("the schema refuses a created applicant without a session url")
    func schemaInvariant() async throws {
        let ledger = try SQLiteLedger(path: folder.path + "/l.sqlite")
        let run = try await ledger.startRun(job: "t", inputs: [], simulated: false, now: Date())
        #expect(throws: LedgerError.self) {
            try ledger.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO applicant (external_id, state, generation, fingerprint, updated_epoch, run_id)
                        VALUES ('u', 'created', 1, 'f', 0, ?)
                        """, arguments: [run])
            }
        }
    }

    /// Records a create intent for `externalID` in run `run`, as the input stage does.
    static func recordIntent(_ ledger: SQLiteLedger, run: Int64, _ externalID: String, key: String, body: [UInt8])
        async throws
    {
        var plan = PlannedRow(seq: 0, fileIndex: 0, line: 2, externalID: externalID, outcome: .create)
        plan.intent = .init(generation: 1, idempotencyKey: key, fingerprint: "f1", body: body, replacesSession: false)
        let planned = plan
        try await ledger.planRun(runID: run) { planning in try planning.record([planned], now: Date()) }
    }

    @Test("a batch lookup answers in the order asked, by the ids' bytes, whatever characters they hold")
    func lookupOrder() async throws {
        let ledger = try SQLiteLedger(path: folder.path + "/l.sqlite")
        let known = ["q\"uote", "back\\slash", "jos\u{E9}", "tab\there", "\u{1F600}", "[1,2]"]
        var run: Int64 = 0
        for (index, id) in known.enumerated() {
            run = try await ledger.startRun(job: "t", inputs: [("a.csv", 10)], simulated: false, now: Date())
            try await Self.recordIntent(ledger, run: run, id, key: "k\(index)", body: [1])
        }
        let asked = [
            "[1,2]", "jose\u{301}", "q\"uote", "nobody", "jos\u{E9}", "\u{1F600}", "back\\slash", "q\"uote",
            "tab\there",
        ]
        let found = try await ledger.planRun(runID: run) { try $0.entries(for: asked) }
        #expect(found.map { $0 != nil } == [true, false, true, false, true, true, true, true, true])
        #expect(try await ledger.reading { try $0.entries(for: []) }.isEmpty)
    }

    @Test("an intent then its outcome: pending (key and body kept), then created (key and body forgotten)")
    func intentThenOutcome() async throws {
        let ledger = try SQLiteLedger(path: folder.path + "/l.sqlite")
        let run = try await ledger.startRun(job: "t", inputs: [("a.csv", 10)], simulated: false, now: Date())
        try await Self.recordIntent(ledger, run: run, "u-1", key: "k1", body: [1, 2])
        let state = try await ledger.planRun(runID: run) { try $0.entries(for: ["u-1", "u-2"]) }
        #expect(state.map { $0?.state } == [.pending, nil])
        #expect(state.first??.fingerprint == "f1")
        let pending = try await ledger.pendingCreates(after: 0, limit: 10)
        #expect(pending.map(\.request.idempotencyKey) == ["k1"])
        #expect(pending.map(\.request.body) == [[1, 2]])
        let session = CreatedSession(
            id: "ses_1", sessionToken: "tok", sessionURL: "https://v/1", status: "created",
            expiresAt: "2030-01-01T00:00:00Z")
        let first = try #require(pending.first)
        try await ledger.record([(first, .created(session))], runID: run, now: Date())
        let entry = try await ledger.planRun(runID: run) { try $0.entries(for: ["u-1"]) }[0]
        #expect(entry?.state == .created)
        #expect(entry?.expiresEpoch == 1_893_456_000)
        #expect(entry?.session == .init(id: "ses_1", url: "https://v/1", expiresAt: "2030-01-01T00:00:00Z"))
        #expect(try await ledger.pendingCreates(after: 0, limit: 10).isEmpty)
        #expect(try ledger.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM pending_create") } == 0)
    }

    @Test("the same external_id twice in one run's history is refused by the schema")
    func duplicateInRun() async throws {
        let ledger = try SQLiteLedger(path: folder.path + "/l.sqlite")
        let run = try await ledger.startRun(job: "t", inputs: [], simulated: false, now: Date())
        try await Self.recordIntent(ledger, run: run, "u-1", key: "k", body: [])
        var again = PlannedRow(seq: 1, fileIndex: 0, line: 3, externalID: "u-1", outcome: .failed)
        again.message = "x"
        let planned = again
        await #expect(throws: LedgerError.self) {
            try await ledger.planRun(runID: run) { planning in try planning.record([planned], now: Date()) }
        }
    }

    @Test("a second holder of the lock is refused at once, naming the first")
    func lock() throws {
        let path = folder.path + "/l.sqlite"
        let first = try LedgerLock(ledgerPath: path)
        do {
            _ = try LedgerLock(ledgerPath: path)
            Issue.record("expected the lock to be refused")
        } catch {
            #expect(error.description.contains("pid \(getpid())"))
        }
        first.unlock()
        #expect(throws: Never.self) { _ = try LedgerLock(ledgerPath: path) }
    }

    @Test(
        "sync reports: the current session's status is recorded with its history; other sessions and strangers are counted, not recorded"
    )
    func syncReports() async throws {
        let ledger = try SQLiteLedger(path: folder.path + "/l.sqlite")
        var run: Int64 = 0
        for id in ["u-1", "u-2"] {
            run = try await ledger.startRun(job: "t", inputs: [], simulated: false, now: Date())
            try await Self.recordIntent(ledger, run: run, id, key: "k-" + id, body: [1])
        }
        for pending in try await ledger.pendingCreates(after: 0, limit: 10) {
            let id = pending.request.externalID
            let session = CreatedSession(
                id: "ses_" + id, sessionToken: nil, sessionURL: "https://v/" + id, status: "created",
                expiresAt: "2030-01-01T00:00:00Z")
            try await ledger.record([(pending, .created(session))], runID: run, now: Date(timeIntervalSince1970: 1000))
        }
        let open = try #require(try await ledger.openSessionsSummary())
        #expect(open.count == 2 && open.oldest == Date(timeIntervalSince1970: 1000))
        let reports = [
            SessionReport(id: "ses_u-1", externalID: "u-1", status: "in_progress"),
            SessionReport(id: "ses_u-2", externalID: "u-2", status: "created"),
            SessionReport(id: "ses_old", externalID: "u-1", status: "expired"),
            SessionReport(id: "ses_x", externalID: "stranger", status: "completed", decision: "approved"),
            SessionReport(id: "ses_y", externalID: nil, status: "created"),
        ]
        let tally = try await ledger.record(reports: reports, now: Date(timeIntervalSince1970: 2000))
        #expect(tally.matched == 2 && tally.changed == 1 && tally.otherSessions == 1 && tally.foreign == 2)
        let done = SessionReport(
            id: "ses_u-1", externalID: "u-1", status: "completed", decision: "approved",
            completedAt: "2029-01-01T00:00:00Z")
        #expect(try await ledger.record(reports: [done], now: Date(timeIntervalSince1970: 3000)).changed == 1)
        let history = try ledger.read { db in
            try Row.fetchAll(
                db, sql: "SELECT session_id, status, decision, seen_epoch FROM session_status ORDER BY rowid"
            )
            .map { "\($0[0] as String) \($0[1] as String) \(($0[2] as String?) ?? "-") \($0[3] as Int64)" }
        }
        #expect(history == ["ses_u-1 in_progress - 2000", "ses_u-1 completed approved 3000"])
        // u-1 is final now; u-2 was seen at 2000, so a sync since 2500 has yet to see it.
        let unseen = try await ledger.openSessions(
            notSyncedSince: Date(timeIntervalSince1970: 2500), after: 0, limit: 10)
        #expect(unseen.map(\.externalID) == ["u-2"])
        #expect(
            try await ledger.openSessions(notSyncedSince: Date(timeIntervalSince1970: 2000), after: 0, limit: 10)
                .isEmpty)
        let funnel = try await ledger.funnel()["t"]
        #expect(funnel?.invited == 2 && funnel?.approved == 1 && funnel?.notStarted == 1 && funnel?.neverSynced == 0)
    }
}
