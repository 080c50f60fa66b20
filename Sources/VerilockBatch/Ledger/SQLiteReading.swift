import Foundation
import GRDB

/// ``LedgerReading`` for the SQLite ledger: the shared reading (``SQLLedgerReading``) in one read
/// transaction (one snapshot) on GRDB's queue, with batch lookups on the planning's fast path.
struct SQLiteReading: SQLLedgerReading {
    let db: Database
    /// The ledger file's path, for messages.
    let location: String

    var sql: any LedgerSQL { SQLiteSQL(db: db, location: location) }

    /// What the ledger knows of each of `externalIDs`, in the same order, read outside any run.
    func entries(for externalIDs: [String]) throws -> [ApplicantEntry?] {
        try SQLitePlanning(db: db, runID: 0, location: location).entries(for: externalIDs)
    }
}
