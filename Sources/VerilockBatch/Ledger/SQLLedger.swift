/// A ledger whose database can be reached as ``LedgerSQL``, one transaction at a time: what
/// moving a ledger between backends (``LedgerCopy``) needs. Both backends are.
protocol SQLLedger: Ledger {
    /// Runs `body` in one transaction on the ledger's own thread: committed when it returns,
    /// rolled back when it throws.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any LedgerSQL) throws -> T) async throws -> T
}

extension SQLiteLedger: SQLLedger {
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any LedgerSQL) throws -> T) async throws -> T {
        let path = self.path
        return try await writeSuspending { db in try body(SQLiteSQL(db: db, location: path)) }
    }
}

extension PostgresLedger: SQLLedger {
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any LedgerSQL) throws -> T) async throws -> T {
        try await onQueue { session in try session.transaction { try body(session) } }
    }
}
