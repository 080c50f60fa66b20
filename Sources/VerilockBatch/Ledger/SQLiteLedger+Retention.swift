import Foundation
import GRDB

extension SQLiteLedger {
    /// Applies `retention` at `now`: deletes run history older than `retention.runs` and erases
    /// the personal data of applicants whose session ended (or whose create failed for good)
    /// longer ago than `retention.personal_data`, in one transaction (rolled back in a dry run).
    ///
    /// What is kept is what exactly-once needs: every applicant's external_id, state,
    /// generation, session id and fingerprint; the history rows of applicants still pending
    /// (a rerun carries them over from there); every run an applicant or session refers to.
    /// Erased content is overwritten with zeros (`secure_delete`), the WAL is checkpointed and
    /// truncated, and free pages are given back (`incremental_vacuum`), so neither the file's
    /// bytes nor its size keep what was removed.
    public func prune(retention: RetentionPolicy, now: Date, dryRun: Bool) async throws -> PruneReport {
        let path = self.path
        let runsCutoff = retention.runs.map { Timestamp.string(now.addingTimeInterval(-$0.inSeconds)) }
        let dataCutoff = retention.personalData.map { Int64(now.timeIntervalSince1970 - $0.inSeconds) }
        if dryRun {
            // Read-only, so it never waits for a run that holds the ledger.
            return try await readSuspending { db in
                var report = PruneReport(ledger: path, dryRun: true)
                report.bytesBefore = Self.fileSize(path) + Self.fileSize(path + "-wal")
                report.bytesAfter = report.bytesBefore
                if let runsCutoff {
                    report.runs = try Int.fetchOne(db, sql: Self.oldRunsWithHistory, arguments: [runsCutoff]) ?? 0
                    report.runRows =
                        try Int.fetchOne(
                            db, sql: "SELECT count(*) FROM run_row WHERE \(Self.prunableHistory)",
                            arguments: [runsCutoff]) ?? 0
                }
                if let dataCutoff {
                    report.applicantsErased =
                        try Int.fetchOne(db, sql: "SELECT count(*) FROM (\(Self.ended))", arguments: [dataCutoff]) ?? 0
                }
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
                if let runsCutoff { try Self.deleteHistory(db, before: runsCutoff, into: &report) }
                if let dataCutoff {
                    try Self.erasePersonalData(db, endedBefore: dataCutoff, now: now, into: &report)
                }
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

    /// Finished runs started before `?`.
    private static let old = "SELECT id FROM run WHERE started_at < ? AND finished_at IS NOT NULL"

    /// Old runs that still have history to delete.
    private static let oldRunsWithHistory = """
        SELECT count(*) FROM run WHERE id IN (\(old)) AND (
            EXISTS (SELECT 1 FROM run_row WHERE run_id = run.id) OR EXISTS (SELECT 1 FROM run_input WHERE run_id = run.id))
        """

    /// History rows of old runs, but those of applicants still pending.
    private static let prunableHistory = """
        run_id IN (\(old)) AND (external_id IS NULL
            OR external_id NOT IN (SELECT external_id FROM applicant WHERE state = 'pending'))
        """

    /// Applicants whose link expired, or whose create failed for good, before `?1`, and who
    /// still hold personal data.
    private static let ended = """
        SELECT external_id FROM applicant WHERE erased_epoch IS NULL AND (
            (state = 'created' AND expires_epoch < ?1) OR (state = 'failed' AND updated_epoch < ?1))
        """

    /// The run history older than `cutoff` (finished runs only).
    private static func deleteHistory(_ db: Database, before cutoff: String, into report: inout PruneReport) throws {
        report.runs = try Int.fetchOne(db, sql: oldRunsWithHistory, arguments: [cutoff]) ?? 0
        try db.execute(sql: "DELETE FROM run_row WHERE \(prunableHistory)", arguments: [cutoff])
        report.runRows = db.changesCount
        try db.execute(
            sql: """
                DELETE FROM run_input WHERE run_id IN (\(old))
                    AND run_id NOT IN (SELECT run_id FROM run_row WHERE run_id IN (\(old)))
                """,
            arguments: [cutoff, cutoff])
        try db.execute(
            sql: """
                DELETE FROM run WHERE id IN (\(old)) AND id NOT IN (SELECT run_id FROM applicant)
                    AND id NOT IN (SELECT run_id FROM session) AND id NOT IN (SELECT run_id FROM run_row)
                    AND id NOT IN (SELECT run_id FROM run_input)
                """,
            arguments: [cutoff])
    }

    /// The personal data of applicants whose link expired, or whose create failed for good,
    /// before `cutoff` (seconds since 1970).
    private static func erasePersonalData(
        _ db: Database, endedBefore cutoff: Int64, now: Date, into report: inout PruneReport
    ) throws {
        try db.execute(
            sql: "UPDATE session SET url = NULL, token = NULL WHERE external_id IN (\(ended))", arguments: [cutoff])
        try db.execute(
            sql: "UPDATE run_row SET record = NULL, message = NULL WHERE external_id IN (\(ended))", arguments: [cutoff]
        )
        try db.execute(
            sql: """
                UPDATE applicant SET email = NULL, name = NULL, session_url = NULL, session_token = NULL,
                    error_message = NULL, erased_epoch = ?2
                WHERE external_id IN (\(ended))
                """,
            arguments: [cutoff, Int64(now.timeIntervalSince1970)])
        report.applicantsErased = db.changesCount
    }

    /// Makes a ledger made before version 5 give free pages back (one full rewrite, once).
    private static func useIncrementalVacuum(_ db: Database) throws {
        guard try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") != 2 else { return }
        try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
        try db.execute(sql: "VACUUM")
    }
}
