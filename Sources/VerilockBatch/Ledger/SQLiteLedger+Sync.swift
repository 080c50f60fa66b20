import Foundation
import GRDB

extension SQLiteLedger {
    /// How many sessions are not final, and when the oldest of them was created; nil when every
    /// one is.
    public func openSessionsSummary() async throws -> (count: Int, oldest: Date)? {
        let path = self.path
        return try await readSuspending { db in
            try LedgerSync(sql: SQLiteSQL(db: db, location: path)).openSessionsSummary()
        }
    }

    /// Up to `limit` sessions that are not final and that no report since `since` covered,
    /// after `rowID`, in ledger order.
    public func openSessions(notSyncedSince since: Date, after rowID: Int64, limit: Int) async throws
        -> [OpenSession]
    {
        let path = self.path
        return try await readSuspending { db in
            try LedgerSync(sql: SQLiteSQL(db: db, location: path)).openSessions(
                notSyncedSince: since, after: rowID, limit: limit)
        }
    }

    /// Records what the API reports of sessions, in one transaction (see
    /// ``LedgerSync/record(reports:now:)``).
    public func record(reports: [SessionReport], now: Date) async throws -> SyncTally {
        let path = self.path
        return try await writeSuspending { db in
            try LedgerSync(sql: SQLiteSQL(db: db, location: path)).record(reports: reports, now: now)
        }
    }

    /// Where the applicants with a session stand, by the job of the run that last touched them.
    public func funnel() async throws -> [String: Funnel] {
        let path = self.path
        return try await readSuspending { db in try LedgerSync(sql: SQLiteSQL(db: db, location: path)).funnel() }
    }
}
