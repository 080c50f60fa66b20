import Foundation
import GRDB

/// What a ledger holds, for `verilock-batch status`.
public struct LedgerStatus: Sendable, Equatable, Codable {
    /// One run, as recorded.
    public struct RunSummary: Sendable, Equatable, Codable {
        public var id: Int64
        public var job: String
        public var startedAt: String
        public var finishedAt: String?
        public var exitCode: Int?
        public var counts: RunCounts?
    }

    /// An applicant, for the pending and expiring lists.
    public struct Applicant: Sendable, Equatable, Codable {
        public var externalID: String
        public var runID: Int64
        public var expiresAt: String?
        public var lastError: String?
    }

    /// The ledger's path.
    public var ledger: String
    /// The ledger's size (with its WAL), in bytes.
    public var bytes: Int64 = 0
    /// When the oldest applicant still holding personal data was last written (ISO 8601).
    public var oldestPersonalData: String?
    /// Applicants whose personal data retention erased.
    public var erased = 0
    /// What the next prune would remove, under the job's retention (when a job is named).
    public var nextPrune: PruneReport?
    /// Applicants by state: `created`, `pending`, `failed`.
    public var applicants: [String: Int] = [:]
    /// Created links already expired.
    public var expired = 0
    /// Created links that expire within a day.
    public var expiringWithinDay = 0
    /// Sessions ever created (replaced ones too).
    public var sessions = 0
    /// The most recent runs, newest first.
    public var runs: [RunSummary] = []
    /// Rows still pending (a run died, or the API did not answer), oldest first, at most 20.
    public var pending: [Applicant] = []
    /// Links that expire within a day, soonest first, at most 20.
    public var expiring: [Applicant] = []

    /// The text `status` prints.
    public var text: String {
        var lines = ["ledger \(ledger) (\(bytes) bytes)"]
        let states = ["created", "pending", "failed"].map { "\($0) \(applicants[$0] ?? 0)" }
        lines.append("applicants   \(states.joined(separator: ", "))")
        lines.append(
            "links        \(expired) expired, \(expiringWithinDay) expiring within a day; \(sessions) sessions ever")
        lines.append(
            "personal data oldest from \(oldestPersonalData ?? "none held"); \(erased) applicants erased by retention")
        if let next = nextPrune {
            lines.append(
                "next prune   history of \(next.runs) runs (\(next.runRows) rows), personal data of "
                    + "\(next.applicantsErased) applicants")
        }
        lines.append("runs (newest first):")
        if runs.isEmpty { lines.append("  none") }
        for run in runs {
            let end = run.finishedAt.map { "ended \($0)" } ?? "did not finish"
            let code = run.exitCode.map { "exit \($0)" } ?? "no exit code"
            var line = "  #\(run.id) \(run.job) started \(run.startedAt), \(end), \(code)"
            if let counts = run.counts {
                line +=
                    ": read \(counts.rowsRead), created \(counts.created), reissued \(counts.reissued), "
                    + "existing \(counts.existing), rejected \(counts.rejected)"
            }
            lines.append(line)
        }
        if !pending.isEmpty {
            lines.append("pending (run again to settle):")
            for item in pending {
                lines.append("  \(item.externalID) (run \(item.runID))" + (item.lastError.map { ": \($0)" } ?? ""))
            }
        }
        if !expiring.isEmpty {
            lines.append("expiring within a day:")
            for item in expiring { lines.append("  \(item.externalID) expires \(item.expiresAt ?? "?")") }
        }
        return lines.joined(separator: "\n")
    }
}

extension LedgerStatus: JSONReport {}

extension Ledger {
    /// What the ledger holds at `now`.
    public func status(now: Date, runs limit: Int = 10) throws -> LedgerStatus {
        let epoch = Int64(now.timeIntervalSince1970)
        return try read { db in
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
                        "SELECT count(*) FROM applicant WHERE state = 'created' AND expires_epoch > ? AND expires_epoch <= ?",
                    arguments: [epoch, epoch + 86400]) ?? 0
            status.sessions = try Self.sessionCount(db)
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
                    AND expires_epoch > ? AND expires_epoch <= ? ORDER BY expires_epoch LIMIT 20
                    """,
                arguments: [epoch, epoch + 86400]
            ).map { LedgerStatus.Applicant(externalID: $0[0], runID: $0[1], expiresAt: $0[2]) }
            return status
        }
    }

    /// When the newest run of `job` that exited 0 ended.
    public func lastSuccess(job: String) throws -> String? {
        try read { db in
            try String.fetchOne(
                db, sql: "SELECT max(finished_at) FROM run WHERE job = ? AND exit_code = 0", arguments: [job])
        }
    }

    /// The id of the newest run of `job` (of any job when nil).
    public func lastRunID(job: String?) throws -> Int64? {
        try read { db in
            if let job {
                return try Int64.fetchOne(db, sql: "SELECT max(id) FROM run WHERE job = ?", arguments: [job])
            }
            return try Int64.fetchOne(db, sql: "SELECT max(id) FROM run")
        }
    }
}
