import Foundation

extension PostgresLedger: Ledger {
    /// How many sessions are not final, and when the oldest of them was created; nil when every
    /// one is.
    public func openSessionsSummary() async throws -> (count: Int, oldest: Date)? {
        try await onQueue { session in try session.snapshot { try LedgerSync(sql: session).openSessionsSummary() } }
    }

    /// Up to `limit` sessions that are not final and that no report since `since` covered,
    /// after `rowID`, in ledger order.
    public func openSessions(notSyncedSince since: Date, after rowID: Int64, limit: Int) async throws
        -> [OpenSession]
    {
        try await onQueue { session in
            try LedgerSync(sql: session).openSessions(notSyncedSince: since, after: rowID, limit: limit)
        }
    }

    /// Records what the API reports of sessions, in one transaction.
    public func record(reports: [SessionReport], now: Date) async throws -> SyncTally {
        try await onQueue { session in
            try session.transaction { try LedgerSync(sql: session).record(reports: reports, now: now) }
        }
    }

    /// Where the applicants with a session stand, by the job of the run that last touched them.
    public func funnel() async throws -> [String: Funnel] {
        try await onQueue { session in try LedgerSync(sql: session).funnel() }
    }

    /// What the ledger holds at `now`; its size is its tables' and their indexes'.
    public func status(now: Date, runs limit: Int) async throws -> LedgerStatus {
        try await onQueue { session in
            try session.snapshot {
                try LedgerOverview(sql: session).status(now: now, runs: limit, bytes: try Self.size(session))
            }
        }
    }

    /// Applies `retention` at `now` (``LedgerRetention``) in one transaction, or, on a dry run,
    /// counts what it would remove. The server's autovacuum reuses the space.
    public func prune(retention: RetentionPolicy, now: Date, dryRun: Bool) async throws -> PruneReport {
        let location = self.location
        return try await onQueue { session in
            var report = PruneReport(ledger: location, dryRun: dryRun)
            report.bytesBefore = try Self.size(session)
            let retention = LedgerRetention(sql: session, retention: retention, now: now)
            if dryRun {
                try session.snapshot { try retention.count(into: &report) }
            } else {
                try session.transaction { try retention.apply(into: &report) }
            }
            report.bytesAfter = try Self.size(session)
            return report
        }
    }

    /// Checks the ledger: the funnel counts against a recount of the applicants, the schema
    /// version, and what it holds (the server enforces every constraint as it writes).
    public func check() async throws -> LedgerCheck {
        let location = self.location
        return try await onQueue { session in
            try session.snapshot {
                let sync = LedgerSync(sql: session)
                let drift = try sync.funnelDrift()
                var applicants: [String: Int] = [:]
                for row in try session.rows("SELECT state, count(*) FROM applicant GROUP BY state", []) {
                    if let state = row.text(0) { applicants[state] = row.int(1) ?? 0 }
                }
                return LedgerCheck(
                    ledger: location,
                    schema: PostgresSchema.newestApplied(
                        try session.rows("SELECT identifier FROM ledger_schema", []).compactMap { $0.text(0) }),
                    toolSchema: PostgresSchema.newest,
                    problems: drift > 0
                        ? ["\(drift) funnel counts (funnel_count) differ from the applicants they count"] : [],
                    applicants: applicants,
                    sessions: try sync.sessionCount(),
                    runs: try session.row("SELECT count(*) FROM run")?.int(0) ?? 0,
                    bytes: try Self.size(session))
            }
        }
    }

    /// Refused: a PostgreSQL ledger is backed up with the database's own tools.
    public func backup(to target: String) async throws {
        throw LedgerError.database(
            path: location,
            reason: "a PostgreSQL ledger is backed up with the database's own tools (pg_dump, or the server's backups)")
    }

    /// The bytes the ledger's tables and their indexes take.
    private static func size(_ session: Session) throws -> Int64 {
        try session.row(
            """
            SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname IN
                ('run', 'run_input', 'applicant', 'pending_create', 'session', 'run_row', 'session_status',
                'funnel_count', 'ledger_holder', 'ledger_schema')
            """)?.int64(0) ?? 0
    }
}
