import Foundation
import GRDB

extension SQLiteLedger {
    /// Up to `limit` pending creates after `rowID` (of run `runID`, when given), in the order
    /// their intents were recorded.
    public func pendingCreates(claimedBy runID: Int64?, after rowID: Int64, limit: Int) async throws
        -> [PendingCreate]
    {
        let path = self.path
        return try await readSuspending { db in
            try LedgerSending(sql: SQLiteSQL(db: db, location: path)).pendingCreates(
                claimedBy: runID, after: rowID, limit: limit)
        }
    }

    /// Marks a pending create as attempted at `date`, just before its request leaves (see
    /// ``LedgerSending/markAttempted(_:at:)``).
    public func markAttempted(_ create: PendingCreate, at date: Date) async throws {
        let path = self.path
        try await writeSuspending { db in
            try LedgerSending(sql: SQLiteSQL(db: db, location: path)).markAttempted(create, at: date)
        }
    }

    /// Records the outcomes of sent creates, and what becomes of sessions that arrived expired,
    /// in one transaction.
    public func record(
        _ outcomes: [(PendingCreate, SendOutcome)],
        expired: [ExpiredOnArrival],
        runID: Int64,
        now: Date
    ) async throws {
        let path = self.path
        try await writeSuspending { db in
            try LedgerSending(sql: SQLiteSQL(db: db, location: path)).record(
                outcomes, expired: expired, runID: runID, now: now)
        }
    }
}
