import Foundation
import GRDB

extension SQLiteLedger {
    /// Created applicants whose session is not final (final: completed with a decision, or
    /// expired, as the API last said), personal data not erased; given `a`.
    static let openSession = """
        a.state = 'created' AND (a.session_status IS NULL OR NOT (a.session_status = 'expired'
            OR (a.session_status = 'completed' AND a.decision IS NOT NULL))) AND a.erased_epoch IS NULL
        """

    /// How many sessions are not final, and when the oldest of them was created; nil when every
    /// one is.
    public func openSessionsSummary() async throws -> (count: Int, oldest: Date)? {
        try await readSuspending { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT count(*), min(coalesce(a.created_epoch, 0)) FROM applicant a WHERE \(Self.openSession)"
            )
            guard let row, let count = row[0] as Int?, count > 0, let oldest = row[1] as Int64? else { return nil }
            return (count, Date(timeIntervalSince1970: TimeInterval(oldest)))
        }
    }

    /// Up to `limit` sessions that are not final and that no report since `since` covered,
    /// after `rowID`, in ledger order.
    public func openSessions(notSyncedSince since: Date, after rowID: Int64, limit: Int) async throws
        -> [OpenSession]
    {
        let epoch = Int64(since.timeIntervalSince1970)
        return try await readSuspending { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT a.rowid, a.external_id, a.session_id FROM applicant a
                    WHERE \(Self.openSession) AND (a.synced_epoch IS NULL OR a.synced_epoch < ?) AND a.rowid > ?
                    ORDER BY a.rowid LIMIT ?
                    """,
                arguments: [epoch, rowID, limit]
            ).map { OpenSession(rowID: $0[0], externalID: $0[1], sessionID: $0[2]) }
        }
    }

    /// Records what the API reports of sessions, in one transaction. A report of an applicant's
    /// current session updates its status, decision, completion and expiry; completion sticks:
    /// a later report that says otherwise changes nothing but the expiry. A report that an
    /// earlier session of the applicant (replaced by a reissue) was completed after all marks the
    /// applicant completed. Every change is kept in the status history.
    public func record(reports: [SessionReport], now: Date) async throws -> SyncTally {
        let epoch = Int64(now.timeIntervalSince1970)
        return try await writeSuspending { db in
            var tally = SyncTally()
            let current = try db.cachedStatement(
                sql: """
                    SELECT session_id, session_status, decision, expires_at, completed_at FROM applicant
                    WHERE external_id = ? AND state = 'created'
                    """)
            let known = try db.cachedStatement(sql: "SELECT 1 FROM applicant WHERE external_id = ?")
            let earlier = try db.cachedStatement(sql: "SELECT 1 FROM session WHERE external_id = ? AND id = ?")
            let update = try db.cachedStatement(
                sql: """
                    UPDATE applicant SET session_status = ?, decision = ?, completed_at = ?,
                        expires_at = coalesce(?, expires_at), expires_epoch = coalesce(?, expires_epoch), synced_epoch = ?
                    WHERE external_id = ? AND state = 'created'
                    """)
            let history = try db.cachedStatement(
                sql: """
                    INSERT INTO session_status (session_id, external_id, status, decision, seen_epoch)
                    VALUES (?, ?, ?, ?, ?)
                    """)
            for report in reports {
                guard let externalID = report.externalID, let row = try Row.fetchOne(current, arguments: [externalID])
                else {
                    if let externalID = report.externalID, try Row.fetchOne(known, arguments: [externalID]) != nil {
                        tally.otherSessions += 1
                    } else {
                        tally.foreign += 1
                    }
                    continue
                }
                let stored = (status: row[1] as String?, decision: row[2] as String?, completedAt: row[4] as String?)
                let finished = SessionReport.isCompleted(status: stored.status, decision: stored.decision)
                guard row[0] as String? == report.id else {
                    // An earlier session of this applicant: only its completion matters.
                    guard report.isCompleted, !finished,
                        try Row.fetchOne(earlier, arguments: [externalID, report.id]) != nil
                    else {
                        tally.otherSessions += 1
                        continue
                    }
                    tally.completedEarlier += 1
                    tally.changed += 1
                    try update.execute(arguments: [
                        "completed", report.decision, report.completedAt, nil, nil, epoch, externalID,
                    ])
                    try history.execute(arguments: [report.id, externalID, "completed", report.decision, epoch])
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
                    || (report.expiresAt != nil && row[3] as String? != report.expiresAt)
                let expires = report.expiresAt.flatMap(Timestamp.parse).map { Int64($0.timeIntervalSince1970) }
                try update.execute(arguments: [
                    next.status, next.decision, next.completedAt, report.expiresAt, expires, epoch, externalID,
                ])
                if changed {
                    tally.changed += 1
                    try history.execute(arguments: [report.id, externalID, next.status, next.decision, epoch])
                }
            }
            return tally
        }
    }

    /// Where the applicants with a session stand, by the job of the run that last touched them.
    public func funnel() async throws -> [String: Funnel] {
        try await readSuspending { db in try Self.funnel(db) }
    }

    /// The funnel, from the counts the schema's triggers keep (`funnel_count`): a few rows,
    /// however many applicants the ledger holds.
    static func funnel(_ db: Database) throws -> [String: Funnel] {
        var funnels: [String: Funnel] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT r.job, nullif(c.status, ''), nullif(c.decision, ''), sum(c.applicants)
                FROM funnel_count c JOIN run r ON r.id = c.run_id GROUP BY 1, 2, 3
                """)
        {
            funnels[row[0], default: Funnel()].add(status: row[1], decision: row[2], count: row[3])
        }
        return funnels
    }

    /// How many of the funnel counts the triggers keep differ from a recount of the applicants
    /// (by run, status and decision), either way: 0 in a sound ledger.
    static func funnelDrift(_ db: Database) throws -> Int {
        let kept = "SELECT run_id, status, decision, applicants FROM funnel_count"
        let recount = LedgerSchema.funnelRecount
        return try Int.fetchOne(
            db,
            sql: """
                SELECT (SELECT count(*) FROM (\(kept) EXCEPT \(recount)))
                    + (SELECT count(*) FROM (\(recount) EXCEPT \(kept)))
                """) ?? 0
    }
}
