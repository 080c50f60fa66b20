import Foundation

/// What `status` shows of a ledger, the same for every backend (``LedgerSQL``), read inside
/// one snapshot.
struct LedgerOverview {
    let sql: any LedgerSQL

    /// What the ledger holds at `now`, with the newest `limit` runs; `bytes` is what the
    /// backend says the ledger takes.
    func status(now: Date, runs limit: Int, bytes: Int64) throws -> LedgerStatus {
        let epoch = Int64(now.timeIntervalSince1970)
        var status = LedgerStatus(ledger: sql.location)
        status.bytes = bytes
        let oldest = try sql.row(
            """
            SELECT min(updated_epoch) FROM applicant WHERE erased_epoch IS NULL
                AND (email IS NOT NULL OR name IS NOT NULL OR session_url IS NOT NULL)
            """)?.int64(0)
        status.oldestPersonalData = oldest.map { Timestamp.string(Date(timeIntervalSince1970: TimeInterval($0))) }
        status.erased = try sql.row("SELECT count(*) FROM applicant WHERE erased_epoch IS NOT NULL")?.int(0) ?? 0
        for row in try sql.rows("SELECT state, count(*) FROM applicant GROUP BY state", []) {
            if let state = row.text(0) { status.applicants[state] = row.int(1) ?? 0 }
        }
        status.expired =
            try sql.row(
                "SELECT count(*) FROM applicant WHERE state = 'created' AND expires_epoch <= ?", [epoch])?.int(0) ?? 0
        let expiring = """
            state = 'created' AND expires_epoch > ? AND expires_epoch <= ?
                AND coalesce(session_status, '') <> 'completed'
            """
        status.expiringWithinDay =
            try sql.row("SELECT count(*) FROM applicant WHERE \(expiring)", [epoch, epoch + 86400])?.int(0) ?? 0
        let sync = LedgerSync(sql: sql)
        status.sessions = try sync.sessionCount()
        status.funnel = try sync.funnel()
        status.funnelTotal = status.funnel.values.reduce(Funnel(), +)
        status.runs = try sql.rows(
            "SELECT id, job, started_at, finished_at, exit_code, counts FROM run ORDER BY id DESC LIMIT ?", [limit]
        ).map { row in
            LedgerStatus.RunSummary(
                id: row.int64(0) ?? 0, job: row.text(1) ?? "", startedAt: row.text(2) ?? "", finishedAt: row.text(3),
                exitCode: row.int(4),
                counts: row.text(5).flatMap { try? JSONDecoder().decode(RunCounts.self, from: Data($0.utf8)) })
        }
        status.pending = try sql.rows(
            """
            SELECT external_id, run_id, error_status, error_code, error_message FROM applicant
            WHERE state = 'pending' ORDER BY rowid LIMIT 20
            """,
            []
        ).map { row in
            let failure = row.text(4).map {
                APIFailure(status: row.int(2), code: row.text(3), message: $0, requestID: nil)
            }
            return LedgerStatus.Applicant(
                externalID: row.text(0) ?? "", runID: row.int64(1) ?? 0, lastError: failure?.summary)
        }
        status.expiring = try sql.rows(
            "SELECT external_id, run_id, expires_at FROM applicant WHERE \(expiring) ORDER BY expires_epoch LIMIT 20",
            [epoch, epoch + 86400]
        ).map {
            LedgerStatus.Applicant(externalID: $0.text(0) ?? "", runID: $0.int64(1) ?? 0, expiresAt: $0.text(2))
        }
        return status
    }
}
