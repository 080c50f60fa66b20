/// The database under a ledger, as the operations both backends share use it: SQL with `?`
/// placeholders in the words both SQLite and PostgreSQL understand, plus the few spellings that
/// differ (``LedgerDialect``). Used synchronously on the ledger's own thread, inside the
/// transaction the caller opened.
public protocol LedgerSQL {
    /// Which database this is, for the spellings that differ.
    var dialect: LedgerDialect { get }
    /// Where the ledger is, for messages (never a secret).
    var location: String { get }
    /// Runs `sql` with `arguments` bound in order; returns its rows.
    func rows(_ sql: String, _ arguments: [any LedgerValueConvertible]) throws -> [LedgerRow]
    /// Runs `sql` with `arguments` bound in order; returns how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: [any LedgerValueConvertible]) throws -> Int
    /// Runs `sql` and calls `body` with each of its rows as it comes, holding few in memory
    /// (for answers that may be millions of rows long).
    func forEachRow(_ sql: String, _ arguments: [any LedgerValueConvertible], _ body: (LedgerRow) throws -> Void)
        throws
}

extension LedgerSQL {
    /// The first row of `sql`, if any.
    public func row(_ sql: String, _ arguments: [any LedgerValueConvertible] = []) throws -> LedgerRow? {
        try rows(sql, arguments).first
    }

    /// Runs `sql` without arguments; returns how many rows it changed.
    @discardableResult
    public func execute(_ sql: String) throws -> Int {
        try execute(sql, [])
    }
}

/// The database a ledger lives in, for the few spellings the two do not share.
public enum LedgerDialect: Sendable, Equatable {
    case sqlite
    case postgres

    /// The column and value that record which connection a run started on, so that other runs
    /// can tell it is still going (PostgreSQL, where runs of other shards and jobs share the
    /// ledger); nil for SQLite, where the ledger's lock lets one run at a time.
    var runConnection: (column: String, value: String)? {
        switch self {
        case .sqlite: nil
        case .postgres:
            (
                "backend",
                "(SELECT pid || '@' || extract(epoch FROM backend_start) FROM pg_stat_activity WHERE pid = pg_backend_pid())"
            )
        }
    }

    /// The condition that the run `alias` is still going, on another connection (see
    /// ``runConnection``); never true for SQLite.
    func isLive(run alias: String) -> String {
        switch self {
        case .sqlite: "1 = 0"
        case .postgres:
            """
            (\(alias).finished_at IS NULL AND EXISTS (SELECT 1 FROM pg_stat_activity s
                WHERE s.pid || '@' || extract(epoch FROM s.backend_start) = \(alias).backend))
            """
        }
    }

    /// An aggregate joining the texts of `expression` with `separator` (a literal).
    func joined(_ expression: String, separator: String) -> String {
        switch self {
        case .sqlite: "group_concat(\(expression), '\(separator)')"
        case .postgres: "string_agg(\(expression), '\(separator)')"
        }
    }
}
