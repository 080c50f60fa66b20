import Foundation

/// Copies one ledger into another, whichever their backends (`ledger copy`): every run, input
/// file, applicant, pending create, replaced session, history row and status report, with their
/// ids, in chunks, in the order they were recorded. The funnel counts follow from the
/// applicants (the target's triggers keep them). The target must be empty; the copy is checked
/// by counting every table on both sides afterwards.
public struct LedgerCopy: Sendable {
    let source: any SQLLedger
    let target: any SQLLedger

    /// A copy of `source` into `target`.
    public init(from source: any Ledger, to target: any Ledger) throws {
        guard let source = source as? any SQLLedger, let target = target as? any SQLLedger else {
            throw LedgerError.database(path: target.location, reason: "this ledger cannot be copied")
        }
        self.source = source
        self.target = target
    }

    /// Rows per chunk.
    static let chunk = 2000

    /// One table: its columns (the same on both backends), and the key it is read in order of.
    struct Table: Sendable {
        var name: String
        var columns: [String]
        /// The ordering key (a column list); each chunk starts after the last row's key.
        var key: [String]
    }

    static let tables: [Table] = [
        Table(
            name: "run",
            columns: ["id", "job", "started_at", "finished_at", "exit_code", "counts", "host", "pid", "simulated"],
            key: ["id"]),
        Table(
            name: "run_input",
            columns: ["run_id", "file_index", "path", "size", "carried", "sha256", "layout", "rows", "existing"],
            key: ["run_id", "file_index"]),
        Table(
            name: "applicant",
            columns: [
                "external_id", "state", "generation", "fingerprint", "email", "name", "session_id", "session_url",
                "session_token", "expires_at", "expires_epoch", "error_status", "error_code", "error_message",
                "error_request_id", "updated_epoch", "erased_epoch", "run_id", "created_epoch", "session_status",
                "decision", "completed_at", "synced_epoch",
            ],
            key: ["rowid"]),
        Table(
            name: "pending_create",
            columns: [
                "seq", "external_id", "generation", "idempotency_key", "request_body", "record", "attempted",
                "attempted_epoch", "unsettled_runs",
            ],
            key: ["seq"]),
        Table(
            name: "session", columns: ["external_id", "generation", "id", "url", "token", "expires_at", "run_id"],
            key: ["external_id", "generation"]),
        Table(
            name: "run_row",
            columns: ["run_id", "seq", "file_index", "line", "external_id", "outcome", "message", "record"],
            key: ["run_id", "seq"]),
        Table(
            name: "session_status", columns: ["session_id", "external_id", "status", "decision", "seen_epoch"],
            key: ["rowid"]),
    ]

    /// Copies everything; returns the rows copied by table. Throws when the target holds
    /// anything, or when a count differs afterwards.
    public func run(progress: @Sendable (String, Int) -> Void = { _, _ in }) async throws -> [String: Int] {
        let tables = Self.tables
        let targetLocation = target.location
        let held = try await target.transaction { sql in
            try tables.reduce(0) { total, table in
                total + (try sql.row("SELECT count(*) FROM \(table.name)")?.int(0) ?? 0)
            }
        }
        guard held == 0 else {
            throw LedgerError.database(
                path: targetLocation, reason: "the target ledger is not empty (\(held) rows): copy into a new one")
        }
        var copied: [String: Int] = [:]
        for table in tables {
            var after: [LedgerValue]?
            var count = 0
            while true {
                let start = after
                let rows = try await source.transaction { sql in try Self.chunk(of: table, after: start, from: sql) }
                guard !rows.isEmpty else { break }
                try await target.transaction { sql in try Self.insert(rows.map(\.values), into: table, sql: sql) }
                after = rows.last?.key
                count += rows.count
                progress(table.name, count)
            }
            copied[table.name] = count
        }
        try await target.transaction { sql in try Self.advanceSequences(sql) }
        // Checked: every table holds as many rows on both sides, and the funnel agrees.
        let counts = { @Sendable (sql: any LedgerSQL) throws -> [String: Int] in
            var counts: [String: Int] = [:]
            for table in tables + [Table(name: "funnel_count", columns: [], key: [])] {
                counts[table.name] = try sql.row("SELECT count(*) FROM \(table.name)")?.int(0) ?? 0
            }
            return counts
        }
        let (before, after) = (try await source.transaction(counts), try await target.transaction(counts))
        guard before == after else {
            throw LedgerError.database(
                path: targetLocation, reason: "the copy's counts differ from the source's: \(after) against \(before)")
        }
        return copied
    }

    /// A row read for copying: its values, and its ordering key.
    struct Row: Sendable {
        var values: [LedgerValue]
        var key: [LedgerValue]
    }

    /// The next chunk of `table` after the key `after` (from the start when nil).
    private static func chunk(of table: Table, after: [LedgerValue]?, from sql: any LedgerSQL) throws -> [Row] {
        let keyList = table.key.joined(separator: ", ")
        let condition =
            after == nil
            ? "" : "WHERE (\(keyList)) > (\(Array(repeating: "?", count: table.key.count).joined(separator: ", ")))"
        return try sql.rows(
            """
            SELECT \((table.columns + table.key).joined(separator: ", ")) FROM \(table.name) \(condition)
            ORDER BY \(keyList) LIMIT \(chunk)
            """,
            after ?? []
        ).map { row in
            Row(values: Array(row.values.prefix(table.columns.count)), key: Array(row.values.suffix(table.key.count)))
        }
    }

    /// Inserts `rows` (values in `table.columns` order) into `table`.
    private static func insert(_ rows: [[LedgerValue]], into table: Table, sql: any LedgerSQL) throws {
        let placeholders = "(" + Array(repeating: "?", count: table.columns.count).joined(separator: ", ") + ")"
        let statement =
            "INSERT INTO \(table.name) (\(table.columns.joined(separator: ", "))) VALUES \(placeholders)"
        let fingerprint = table.name == "applicant" ? table.columns.firstIndex(of: "fingerprint") : nil
        for var values in rows {
            // Ledgers before SQLite's version 5 hold fingerprints as hex text; PostgreSQL's are bytes.
            if let fingerprint, case .text(let hex) = values[fingerprint], sql.dialect == .postgres {
                values[fingerprint] = .blob(Array(SQLitePlanning.fingerprintBytes(hex)))
            }
            try sql.execute(statement, values)
        }
    }

    /// After ids were copied as they were, PostgreSQL's sequences go past them.
    private static func advanceSequences(_ sql: any LedgerSQL) throws {
        guard sql.dialect == .postgres else { return }
        for (table, column) in [("run", "id"), ("pending_create", "seq")] {
            try sql.execute(
                """
                SELECT setval(pg_get_serial_sequence('\(table)', '\(column)'), coalesce(max(\(column)), 0) + 1, false)
                FROM \(table)
                """)
        }
    }
}
