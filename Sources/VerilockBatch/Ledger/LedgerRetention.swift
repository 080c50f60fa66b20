import Foundation

/// What retention removes from a ledger, the same for every backend (``LedgerSQL``), inside
/// the caller's transaction: run history older than `retention.runs`, and the personal data of
/// applicants whose session ended (or whose create failed for good) longer ago than
/// `retention.personal_data`.
///
/// What is kept is what exactly-once needs: every applicant's external_id, state,
/// generation, session id and fingerprint; the history rows of applicants still pending (a
/// rerun carries them over from there); every run an applicant or session refers to.
struct LedgerRetention {
    let sql: any LedgerSQL
    let retention: RetentionPolicy
    let now: Date

    private var runsCutoff: String? {
        retention.runs.map { Timestamp.string(now.addingTimeInterval(-$0.inSeconds)) }
    }

    private var dataCutoff: Int64? {
        retention.personalData.map { Int64(now.timeIntervalSince1970 - $0.inSeconds) }
    }

    /// Counts what ``apply(into:)`` would remove, changing nothing.
    func count(into report: inout PruneReport) throws {
        if let runsCutoff {
            report.runs = try sql.row(Self.oldRunsWithHistory, [runsCutoff])?.int(0) ?? 0
            report.runRows =
                try sql.row("SELECT count(*) FROM run_row WHERE \(Self.prunableHistory)", [runsCutoff])?.int(0) ?? 0
        }
        if let dataCutoff {
            report.applicantsErased =
                try sql.row("SELECT count(*) FROM (\(Self.ended)) e", [dataCutoff, dataCutoff])?.int(0) ?? 0
        }
    }

    /// Deletes the old history and erases the old personal data; says what in `report`.
    func apply(into report: inout PruneReport) throws {
        if let runsCutoff { try deleteHistory(before: runsCutoff, into: &report) }
        if let dataCutoff { try erasePersonalData(endedBefore: dataCutoff, into: &report) }
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

    /// Applicants whose link expired, or whose create failed for good, before `?`, and who
    /// still hold personal data.
    private static let ended = """
        SELECT external_id FROM applicant WHERE erased_epoch IS NULL AND (
            (state = 'created' AND expires_epoch < ?) OR (state = 'failed' AND updated_epoch < ?))
        """

    /// The run history older than `cutoff` (finished runs only).
    private func deleteHistory(before cutoff: String, into report: inout PruneReport) throws {
        report.runs = try sql.row(Self.oldRunsWithHistory, [cutoff])?.int(0) ?? 0
        report.runRows = try sql.execute("DELETE FROM run_row WHERE \(Self.prunableHistory)", [cutoff])
        try sql.execute(
            """
            DELETE FROM run_input WHERE run_id IN (\(Self.old))
                AND run_id NOT IN (SELECT run_id FROM run_row WHERE run_id IN (\(Self.old)))
            """,
            [cutoff, cutoff])
        try sql.execute(
            """
            DELETE FROM run WHERE id IN (\(Self.old)) AND id NOT IN (SELECT run_id FROM applicant)
                AND id NOT IN (SELECT run_id FROM session) AND id NOT IN (SELECT run_id FROM run_row)
                AND id NOT IN (SELECT run_id FROM run_input) AND id NOT IN (SELECT run_id FROM funnel_count)
            """,
            [cutoff])
    }

    /// The personal data of applicants whose link expired, or whose create failed for good,
    /// before `cutoff` (seconds since 1970).
    private func erasePersonalData(endedBefore cutoff: Int64, into report: inout PruneReport) throws {
        try sql.execute(
            "UPDATE session SET url = NULL, token = NULL WHERE external_id IN (\(Self.ended))", [cutoff, cutoff])
        try sql.execute(
            "UPDATE run_row SET record = NULL, message = NULL WHERE external_id IN (\(Self.ended))", [cutoff, cutoff])
        report.applicantsErased = try sql.execute(
            """
            UPDATE applicant SET email = NULL, name = NULL, session_url = NULL, session_token = NULL,
                error_message = NULL, erased_epoch = ?
            WHERE external_id IN (\(Self.ended))
            """,
            [Int64(now.timeIntervalSince1970), cutoff, cutoff])
    }
}
