/// ``LedgerReading`` for the PostgreSQL ledger: the shared reading (``SQLLedgerReading``) in one
/// read-only, repeatable-read transaction (one snapshot) on the ledger's connection.
struct PostgresReading: SQLLedgerReading {
    let session: PostgresLedger.Session

    var sql: any LedgerSQL { session }

    /// What the ledger knows of each of `externalIDs`, in the same order, read outside any run.
    func entries(for externalIDs: [String]) throws -> [ApplicantEntry?] {
        try PostgresPlanning(session: session, runID: 0).entries(for: externalIDs)
    }
}
