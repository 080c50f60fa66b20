import Foundation
import GRDB

extension SQLiteLedger {
    /// Applies `retention` at `now` (``LedgerRetention``), in one transaction (only counted in a
    /// dry run). Erased content is overwritten with zeros (`secure_delete`), the WAL is checkpointed and
    /// truncated, and free pages are given back (`incremental_vacuum`), so neither the file's
    /// bytes nor its size keep what was removed.
    public func prune(retention: RetentionPolicy, now: Date, dryRun: Bool) async throws -> PruneReport {
        let path = self.path
        if dryRun {
            // Read-only, so it never waits for a run that holds the ledger.
            return try await readSuspending { db in
                var report = PruneReport(ledger: path, dryRun: true)
                report.bytesBefore = Self.fileSize(path) + Self.fileSize(path + "-wal")
                report.bytesAfter = report.bytesBefore
                try LedgerRetention(sql: SQLiteSQL(db: db, location: path), retention: retention, now: now)
                    .count(into: &report)
                return report
            }
        }
        var report = try await withoutTransaction { db in
            var report = PruneReport(ledger: path)
            report.bytesBefore = Self.fileSize(path) + Self.fileSize(path + "-wal")
            try Self.useIncrementalVacuum(db)
            let secureDelete = try Int.fetchOne(db, sql: "PRAGMA secure_delete") ?? 0
            try db.execute(sql: "PRAGMA secure_delete = ON")
            defer { try? db.execute(sql: "PRAGMA secure_delete = \(secureDelete)") }
            try db.inTransaction {
                try LedgerRetention(sql: SQLiteSQL(db: db, location: path), retention: retention, now: now)
                    .apply(into: &report)
                return .commit
            }
            // Free pages (deleted history, settled creates' bodies) go back to the file system.
            if try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0 > 0 {
                try db.execute(sql: "PRAGMA incremental_vacuum")
            }
            if report.removedAnything { try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            return report
        }
        report.bytesAfter = Self.fileSize(path) + Self.fileSize(path + "-wal")
        return report
    }

    /// Makes a ledger made before version 5 give free pages back (one full rewrite, once).
    private static func useIncrementalVacuum(_ db: Database) throws {
        guard try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") != 2 else { return }
        try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
        try db.execute(sql: "VACUUM")
    }
}
