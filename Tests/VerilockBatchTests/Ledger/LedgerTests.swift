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
        let ledger = try Ledger(path: path)
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
        _ = try Ledger(path: path)
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('v9: from the future')") }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: LedgerError.tooNew(path: path, version: "v9: from the future", known: "v4: settlement")) {
            _ = try Ledger(path: path)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(ExitStatus(for: LedgerError.tooNew(path: path, version: "v9", known: "v4")) == .cannotWrite)
    }

    @Test("check counts what the ledger holds; backup writes a 0600 copy that checks alike, never over a file")
    func checkAndBackup() throws {
        let ledger = try Ledger(path: folder.path + "/l.sqlite")
        let run = try ledger.startRun(job: "t", inputs: [("a.csv", 10)], simulated: false, now: Date())
        try ledger.write { db in
            try LedgerRows(db: db, runID: run).recordIntent(
                externalID: "u-1", generation: 1, idempotencyKey: "k1", fingerprint: "f1", body: [1], now: "t")
        }
        let check = try ledger.check()
        #expect(check.isSound)
        #expect(check.applicants == ["pending": 1])
        #expect(check.runs == 1)
        #expect(check.schema == "v4: settlement" && check.toolSchema == check.schema)
        let copy = folder.path + "/backups/copy.sqlite"
        try ledger.backup(to: copy)
        #expect((try FileManager.default.attributesOfItem(atPath: copy)[.posixPermissions] as? Int) == 0o600)
        var copied = try Ledger(path: copy).check()
        copied.ledger = check.ledger
        copied.bytes = check.bytes
        #expect(copied == check)
        let sizeBefore = try FileManager.default.attributesOfItem(atPath: copy)[.size] as? Int
        #expect(throws: LedgerError.self) { try ledger.backup(to: copy) }
        #expect(try FileManager.default.attributesOfItem(atPath: copy)[.size] as? Int == sizeBefore)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path + "/backups") == ["copy.sqlite"])
    }

    @Test("check reports a row that refers to nothing as a problem")
    func checkFindsOrphans() throws {
        let path = folder.path + "/orphan.sqlite"
        _ = try Ledger(path: path)
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.write { db in
            try db.execute(sql: "INSERT INTO run_input (run_id, file_index, path) VALUES (999, 0, 'a.csv')")
        }
        let check = try Ledger(path: path).check()
        #expect(!check.isSound)
        #expect(check.problems == ["1 rows refer to rows that do not exist"])
        #expect(check.text.contains("integrity   1 problems:"))
    }

    @Test("the schema refuses a created applicant without a session url")
    func schemaInvariant() throws {
        let ledger = try Ledger(path: folder.path + "/l.sqlite")
        let run = try ledger.startRun(job: "t", inputs: [], simulated: false, now: Date())
        #expect(throws: LedgerError.self) {
            try ledger.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO applicant (external_id, state, generation, idempotency_key, fingerprint,
                            created_at, updated_at, run_id) VALUES ('u', 'created', 1, 'k', 'f', 'now', 'now', ?)
                        """, arguments: [run])
            }
        }
    }

    @Test("an intent then its outcome: pending, then created with the session kept in history")
    func intentThenOutcome() throws {
        let ledger = try Ledger(path: folder.path + "/l.sqlite")
        let run = try ledger.startRun(job: "t", inputs: [("a.csv", 10)], simulated: false, now: Date())
        let state = try ledger.write { db in
            let rows = LedgerRows(db: db, runID: run)
            try rows.recordIntent(
                externalID: "u-1", generation: 1, idempotencyKey: "k1", fingerprint: "f1", body: [1, 2], now: "t")
            return try rows.entry("u-1")?.state
        }
        #expect(state == "pending")
        let pending = try ledger.pendingCreates(after: 0, limit: 10)
        #expect(pending.map(\.request.idempotencyKey) == ["k1"])
        let session = CreatedSession(
            id: "ses_1", sessionToken: "tok", sessionURL: "https://v/1", status: "created",
            expiresAt: "2030-01-01T00:00:00Z")
        let first = try #require(pending.first)
        try ledger.record([(first, .created(session))], runID: run, now: Date())
        let entry = try ledger.read { db in try LedgerRows(db: db, runID: run).entry("u-1") }
        #expect(entry?.state == "created")
        #expect(entry?.expiresEpoch == 1_893_456_000)
        #expect(try ledger.pendingCreates(after: 0, limit: 10).isEmpty)
    }

    @Test("the same external_id twice in one run: the second insert is refused")
    func duplicateInRun() throws {
        let ledger = try Ledger(path: folder.path + "/l.sqlite")
        let run = try ledger.startRun(job: "t", inputs: [], simulated: false, now: Date())
        let (first, second, firstLine) = try ledger.write { db in
            let rows = LedgerRows(db: db, runID: run)
            try rows.recordIntent(
                externalID: "u-1", generation: 1, idempotencyKey: "k", fingerprint: "f", body: [], now: "t")
            var record = RunRowRecord(seq: 0, fileIndex: 0, line: 2, externalID: "u-1", outcome: .create)
            let first = try rows.insert(record)
            record.seq = 1
            record.line = 3
            return (first, try rows.insert(record), try rows.firstOccurrence("u-1")?.line)
        }
        #expect(first)
        #expect(!second)
        #expect(firstLine == 2)
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
}
