import Foundation
import GRDB

extension SQLiteLedger {
    /// Checks the ledger for `ledger check`: SQLite's integrity check and foreign keys, the
    /// funnel counts against a recount of the applicants, the schema version, and what it holds.
    public func check() async throws -> LedgerCheck {
        let path = self.path
        let size = Self.fileSize(path) + Self.fileSize(path + "-wal")
        return try await readSuspending { db in
            var problems = try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
            let orphans = try Row.fetchAll(db, sql: "PRAGMA foreign_key_check")
            if !orphans.isEmpty { problems.append("\(orphans.count) rows refer to rows that do not exist") }
            let sync = LedgerSync(sql: SQLiteSQL(db: db, location: path))
            let drift = try sync.funnelDrift()
            if drift > 0 {
                problems.append("\(drift) funnel counts (funnel_count) differ from the applicants they count")
            }
            var applicants: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM applicant GROUP BY state") {
                applicants[row["state"]] = row["n"]
            }
            return LedgerCheck(
                ledger: path,
                schema: try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations").last ?? "none",
                toolSchema: LedgerSchema.migrator.migrations.last ?? "none",
                problems: problems,
                applicants: applicants,
                sessions: try sync.sessionCount(),
                runs: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM run") ?? 0,
                bytes: size
            )
        }
    }

    /// Writes a consistent copy of the ledger to `target` (SQLite's `VACUUM INTO`, which reads
    /// one snapshot, so runs may go on meanwhile), created 0600. The copy is made beside
    /// `target` and renamed onto it only when complete; an existing `target` is refused.
    public func backup(to target: String) async throws {
        guard !FileManager.default.fileExists(atPath: target) else {
            throw LedgerError.database(path: target, reason: "the backup file exists: name a new file")
        }
        let (descriptor, temporary) = try PrivateFiles.createTemporary(beside: target)
        close(descriptor)
        do {
            // Outside a transaction: VACUUM refuses to run in one, and takes its own snapshot.
            try await withoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [temporary]) }
            guard rename(temporary, target) == 0 else {
                throw LedgerError.database(path: target, reason: String(cString: strerror(errno)))
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// The size of the file at `path`, 0 when there is none.
    static func fileSize(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }
}
