import Foundation
import GRDB

extension SQLiteLedger {
    /// What the ledger holds at `now` (see ``LedgerOverview``); its size is the file's and its
    /// write-ahead log's.
    public func status(now: Date, runs limit: Int) async throws -> LedgerStatus {
        let path = self.path
        return try await readSuspending { db in
            try LedgerOverview(sql: SQLiteSQL(db: db, location: path)).status(
                now: now, runs: limit, bytes: Self.fileSize(path) + Self.fileSize(path + "-wal"))
        }
    }
}
