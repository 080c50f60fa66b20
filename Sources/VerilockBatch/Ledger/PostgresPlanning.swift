/// ``LedgerPlanning`` for the PostgreSQL ledger: the shared planning (``SQLLedgerPlanning``)
/// on the ledger's connection, inside the run's planning transaction.
struct PostgresPlanning: SQLLedgerPlanning {
    let session: PostgresLedger.Session
    let runID: Int64

    var sql: any LedgerSQL { session }
}
