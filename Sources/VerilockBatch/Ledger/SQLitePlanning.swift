import Foundation
import GRDB

/// ``LedgerPlanning`` for the SQLite ledger, inside one transaction on the ledger's own
/// connection: the shared planning (``SQLLedgerPlanning``), with batch lookups on SQLite's
/// statement directly, the fast path of a nightly rerun.
struct SQLitePlanning: SQLLedgerPlanning {
    let db: Database
    let runID: Int64
    /// The ledger file's path, for messages.
    let location: String

    var sql: any LedgerSQL { SQLiteSQL(db: db, location: location) }

    /// Rows per lookup statement.
    static let lookupBatch = 999

    func entries(for externalIDs: [String]) throws -> [ApplicantEntry?] {
        var entries = [ApplicantEntry?](repeating: nil, count: externalIDs.count)
        guard !externalIDs.isEmpty else { return entries }
        // The ids go in as one JSON array: `json_each` gives each its place in the batch (`key`),
        // so each found entry goes straight to its row, with no hashing of ids on this thread.
        let lookup = RawStatement(
            statement: try db.cachedStatement(
                sql: """
                    SELECT j.key, \(ApplicantEntry.lookupColumns)
                    FROM json_each(?) j JOIN applicant a ON a.external_id = j.value
                    """))
        lookup.reset()
        try lookup.bind(1, Self.jsonArray(externalIDs))
        while try lookup.step() {
            guard let place = lookup.int64(0).map(Int.init), entries.indices.contains(place),
                let entry = ApplicantEntry(lookup: lookup)
            else { continue }
            entries[place] = entry
        }
        lookup.reset()
        try addDetails(&entries, of: externalIDs)
        return entries
    }
}
