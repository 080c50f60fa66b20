import Foundation

/// What `sync` and the funnel ask of a ledger, the same for every backend (``LedgerSQL``),
/// inside the caller's transaction.
struct LedgerSync {
    let sql: any LedgerSQL

    /// Created applicants whose session is not final (final: completed with a decision, or
    /// expired, as the API last said), personal data not erased; given `a`.
    static let openSession = """
        a.state = 'created' AND (a.session_status IS NULL OR NOT (a.session_status = 'expired'
            OR (a.session_status = 'completed' AND a.decision IS NOT NULL))) AND a.erased_epoch IS NULL
        """

    /// How many sessions are not final, and when the oldest of them was created; nil when every
    /// one is.
    func openSessionsSummary() throws -> (count: Int, oldest: Date)? {
        let row = try sql.row(
            "SELECT count(*), min(coalesce(a.created_epoch, 0)) FROM applicant a WHERE \(Self.openSession)")
        guard let row, let count = row.int(0), count > 0, let oldest = row.int64(1) else { return nil }
        return (count, Date(timeIntervalSince1970: TimeInterval(oldest)))
    }

    /// Up to `limit` sessions that are not final and that no report since `since` covered,
    /// after `rowID`, in ledger order.
    func openSessions(notSyncedSince since: Date, after rowID: Int64, limit: Int) throws -> [OpenSession] {
        try sql.rows(
            """
            SELECT a.rowid, a.external_id, a.session_id FROM applicant a
            WHERE \(Self.openSession) AND (a.synced_epoch IS NULL OR a.synced_epoch < ?) AND a.rowid > ?
            ORDER BY a.rowid LIMIT ?
            """,
            [Int64(since.timeIntervalSince1970), rowID, limit]
        ).map { OpenSession(rowID: $0.int64(0) ?? 0, externalID: $0.text(1) ?? "", sessionID: $0.text(2) ?? "") }
    }

    /// Records what the API reports of sessions. A report of an applicant's current session
    /// updates its status, decision, completion and expiry; completion sticks: a later report
    /// that says otherwise changes nothing but the expiry. A report that an earlier session of
    /// the applicant (replaced by a reissue) was completed after all marks the applicant
    /// completed. Every change is kept in the status history.
    func record(reports: [SessionReport], now: Date) throws -> SyncTally {
        let epoch = Int64(now.timeIntervalSince1970)
        var tally = SyncTally()
        let update = """
            UPDATE applicant SET session_status = ?, decision = ?, completed_at = ?,
                expires_at = coalesce(?, expires_at), expires_epoch = coalesce(?, expires_epoch), synced_epoch = ?
            WHERE external_id = ? AND state = 'created'
            """
        let history = """
            INSERT INTO session_status (session_id, external_id, status, decision, seen_epoch) VALUES (?, ?, ?, ?, ?)
            """
        for report in reports {
            guard let externalID = report.externalID,
                let row = try sql.row(
                    """
                    SELECT session_id, session_status, decision, expires_at, completed_at FROM applicant
                    WHERE external_id = ? AND state = 'created'
                    """,
                    [externalID])
            else {
                if let externalID = report.externalID,
                    try sql.row("SELECT 1 FROM applicant WHERE external_id = ?", [externalID]) != nil
                {
                    tally.otherSessions += 1
                } else {
                    tally.foreign += 1
                }
                continue
            }
            let stored = (status: row.text(1), decision: row.text(2), completedAt: row.text(4))
            let finished = SessionReport.isCompleted(status: stored.status, decision: stored.decision)
            guard row.text(0) == report.id else {
                // An earlier session of this applicant: only its completion matters.
                guard report.isCompleted, !finished,
                    try sql.row("SELECT 1 FROM session WHERE external_id = ? AND id = ?", [externalID, report.id])
                        != nil
                else {
                    tally.otherSessions += 1
                    continue
                }
                tally.completedEarlier += 1
                tally.changed += 1
                try sql.execute(
                    update,
                    ["completed", report.decision, report.completedAt, String?.none, Int64?.none, epoch, externalID])
                try sql.execute(history, [report.id, externalID, "completed", report.decision, epoch])
                continue
            }
            tally.matched += 1
            var next = (status: report.status, decision: report.decision, completedAt: report.completedAt)
            if finished && !report.isCompleted {
                // Completion never goes back.
                tally.regressions += 1
                next = (stored.status ?? "completed", stored.decision, stored.completedAt)
            }
            let changed =
                stored.status != next.status || stored.decision != next.decision
                || (report.expiresAt != nil && row.text(3) != report.expiresAt)
            let expires = report.expiresAt.flatMap(Timestamp.parse).map { Int64($0.timeIntervalSince1970) }
            try sql.execute(
                update,
                [next.status, next.decision, next.completedAt, report.expiresAt, expires, epoch, externalID])
            if changed {
                tally.changed += 1
                try sql.execute(history, [report.id, externalID, next.status, next.decision, epoch])
            }
        }
        return tally
    }

    /// The funnel key of an applicant row (`NEW` or `OLD` in a trigger, or the table's name):
    /// what `sync` last heard of its session, empty when sync never saw it, and its decision,
    /// empty when none. Every backend's counts and recount use it.
    static func funnelKey(_ row: String) -> (status: String, decision: String) {
        (
            "CASE WHEN \(row).synced_epoch IS NULL THEN '' ELSE coalesce(\(row).session_status, '') END",
            "coalesce(\(row).decision, '')"
        )
    }

    /// The funnel counts recounted from the applicants, as `funnel_count` keeps them.
    static var funnelRecount: String {
        let key = funnelKey("applicant")
        return """
            SELECT run_id, \(key.status), \(key.decision), count(*)
            FROM applicant WHERE state = 'created' GROUP BY 1, 2, 3
            """
    }

    /// The funnel by job, from the counts the schema's triggers keep (`funnel_count`): a few
    /// rows, however many applicants the ledger holds.
    func funnel() throws -> [String: Funnel] {
        var funnels: [String: Funnel] = [:]
        for row in try sql.rows(
            """
            SELECT r.job, nullif(c.status, ''), nullif(c.decision, ''), sum(c.applicants)
            FROM funnel_count c JOIN run r ON r.id = c.run_id GROUP BY 1, 2, 3
            """,
            [])
        {
            funnels[row.text(0) ?? "", default: Funnel()].add(
                status: row.text(1), decision: row.text(2), count: row.int(3) ?? 0)
        }
        return funnels
    }

    /// How many of the funnel counts the triggers keep differ from a recount of the applicants
    /// (by run, status and decision), either way: 0 in a sound ledger.
    func funnelDrift() throws -> Int {
        let kept = "SELECT run_id, status, decision, applicants FROM funnel_count"
        let recount = Self.funnelRecount
        return try sql.row(
            """
            SELECT (SELECT count(*) FROM (\(kept) EXCEPT \(recount)) k)
                + (SELECT count(*) FROM (\(recount) EXCEPT \(kept)) r)
            """)?.int(0) ?? 0
    }

    /// Sessions ever created: those the history keeps and the current ones.
    func sessionCount() throws -> Int {
        try sql.row(
            "SELECT (SELECT count(*) FROM session) + (SELECT count(*) FROM applicant WHERE state = 'created')")?.int(0)
            ?? 0
    }
}
