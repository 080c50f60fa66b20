import Foundation
import GRDB

extension SQLiteLedger {
    /// What the ledger holds at `now`.
    public func status(now: Date, runs limit: Int) async throws -> LedgerStatus {
        let epoch = Int64(now.timeIntervalSince1970)
        let path = self.path
        return try await readSuspending { db in
            var status = LedgerStatus(ledger: path)
            status.bytes = Self.fileSize(path) + Self.fileSize(path + "-wal")
            let oldest = try Int64.fetchOne(
                db,
                sql: """
                    SELECT min(updated_epoch) FROM applicant WHERE erased_epoch IS NULL
                        AND (email IS NOT NULL OR name IS NOT NULL OR session_url IS NOT NULL)
                    """)
            status.oldestPersonalData = oldest.map { Timestamp.string(Date(timeIntervalSince1970: TimeInterval($0))) }
            status.erased =
                try Int.fetchOne(db, sql: "SELECT count(*) FROM applicant WHERE erased_epoch IS NOT NULL") ?? 0
            for row in try Row.fetchAll(db, sql: "SELECT state, count(*) FROM applicant GROUP BY state") {
                status.applicants[row[0]] = row[1]
            }
            status.expired =
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM applicant WHERE state = 'created' AND expires_epoch <= ?",
                    arguments: [epoch]) ?? 0
            status.expiringWithinDay =
                try Int.fetchOne(
                    db,
                    sql:
                        "SELECT count(*) FROM applicant WHERE state = 'created' AND expires_epoch > ? AND expires_epoch <= ? AND coalesce(session_status, '') <> 'completed'",
                    arguments: [epoch, epoch + 86400]) ?? 0
            status.sessions = try Self.sessionCount(db)
            status.funnel = try Self.funnel(db)
            status.funnelTotal = status.funnel.values.reduce(Funnel(), +)
            status.runs = try Row.fetchAll(
                db, sql: "SELECT id, job, started_at, finished_at, exit_code, counts FROM run ORDER BY id DESC LIMIT ?",
                arguments: [limit]
            ).map { row in
                let counts: String? = row[5]
                return LedgerStatus.RunSummary(
                    id: row[0], job: row[1], startedAt: row[2], finishedAt: row[3], exitCode: row[4],
                    counts: counts.flatMap { try? JSONDecoder().decode(RunCounts.self, from: Data($0.utf8)) })
            }
            status.pending = try Row.fetchAll(
                db,
                sql: """
                    SELECT external_id, run_id, error_status, error_code, error_message FROM applicant
                    WHERE state = 'pending' ORDER BY rowid LIMIT 20
                    """
            ).map { row in
                let message: String? = row[4]
                let failure = message.map { APIFailure(status: row[2], code: row[3], message: $0, requestID: nil) }
                return LedgerStatus.Applicant(externalID: row[0], runID: row[1], lastError: failure?.summary)
            }
            status.expiring = try Row.fetchAll(
                db,
                sql: """
                    SELECT external_id, run_id, expires_at FROM applicant WHERE state = 'created'
                    AND expires_epoch > ? AND expires_epoch <= ? AND coalesce(session_status, '') <> 'completed'
                    ORDER BY expires_epoch LIMIT 20
                    """,
                arguments: [epoch, epoch + 86400]
            ).map { LedgerStatus.Applicant(externalID: $0[0], runID: $0[1], expiresAt: $0[2]) }
            return status
        }
    }
}
