import Foundation
import PostgresNIO

extension PostgresLedger {
    /// Takes the lock of `job` (and of `shard`, for a sharded run) for this connection, or
    /// throws ``LedgerError/locked(path:holder:)`` at once naming the runs that hold it.
    ///
    /// Session-level advisory locks: a run of the whole job takes the job's lock exclusively; a
    /// shard takes it shared, and its own shard's lock exclusively. So shards of one job run at
    /// the same time, and never beside a second run of the same shard or a run of the whole
    /// job. A row in `ledger_holder` names each holder (host, pid, start) for the next comer.
    public func lock(job: String, shard: Shard?, now: Date) async throws {
        let shardName = shard.map { "\($0.index)/\($0.count)" } ?? ""
        let host = ProcessInfo.processInfo.hostName
        let pid = Int64(getpid())
        let started = Timestamp.string(now)
        try await onQueue { session in
            let jobKey = "job\u{1F}" + job
            let taken: Bool
            if shard == nil {
                taken =
                    try session.rows("SELECT pg_try_advisory_lock(hashtextextended(\(jobKey), 0))")
                    .first?.decode(Bool.self) ?? false
            } else {
                let shardKey = "shard\u{1F}" + job + "\u{1F}" + shardName
                taken =
                    try session.rows(
                        "SELECT pg_try_advisory_lock_shared(hashtextextended(\(jobKey), 0))"
                    ).first?.decode(Bool.self) ?? false
                if taken,
                    try session.rows("SELECT pg_try_advisory_lock(hashtextextended(\(shardKey), 0))")
                        .first?.decode(Bool.self) != true
                {
                    try session.rows("SELECT pg_advisory_unlock_shared(hashtextextended(\(jobKey), 0))")
                    throw Self.locked(session, job: job)
                }
            }
            guard taken else { throw Self.locked(session, job: job) }
            try session.rows(
                """
                INSERT INTO ledger_holder (job, shard, host, pid, backend_pid, started_at)
                VALUES (\(job), \(shardName), \(host), \(pid), pg_backend_pid(), \(started))
                ON CONFLICT (job, shard) DO UPDATE SET host = excluded.host, pid = excluded.pid,
                    backend_pid = excluded.backend_pid, started_at = excluded.started_at
                """)
        }
    }

    /// The error naming the live holders of `job`'s locks: rows whose connection is still open.
    private static func locked(_ session: Session, job: String) -> LedgerError {
        let rows =
            (try? session.rows(
                """
                SELECT h.shard, h.host, h.pid, h.started_at FROM ledger_holder h
                WHERE h.job = \(job) AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = h.backend_pid)
                ORDER BY h.shard
                """)) ?? []
        let holders = rows.compactMap { row -> String? in
            guard let (shard, host, pid, started) = try? row.decode((String, String, Int64, String).self) else {
                return nil
            }
            return (shard.isEmpty ? "" : "shard \(shard): ") + "pid \(pid) on \(host), started \(started)"
        }
        return .locked(
            path: "\(session.location) (job '\(job)')",
            holder: holders.isEmpty ? "unknown holder" : holders.joined(separator: "; "))
    }
}
