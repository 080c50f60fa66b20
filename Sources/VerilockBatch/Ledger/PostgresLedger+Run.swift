import Foundation

extension PostgresLedger {
    /// Records the start of a run and its inputs; returns the run's id.
    public func startRun(job: String, inputs: [(path: String, size: Int64?)], simulated: Bool, now: Date)
        async throws -> Int64
    {
        try await onQueue { session in
            try session.transaction {
                try LedgerRuns(sql: session).start(job: job, inputs: inputs, simulated: simulated, now: now)
            }
        }
    }

    /// Records how a run ended.
    public func finishRun(_ runID: Int64, exitCode: Int32, counts: RunCounts, now: Date) async throws {
        try await onQueue { session in
            try session.transaction {
                try LedgerRuns(sql: session).finish(runID, exitCode: exitCode, counts: counts, now: now)
            }
        }
    }

    /// Runs run `runID`'s planning in one transaction on the ledger's queue: committed when
    /// `body` returns, rolled back when it throws.
    public func planRun<T: Sendable>(
        runID: Int64, _ body: @escaping @Sendable (any LedgerPlanning) throws -> T
    ) async throws -> T {
        try await onQueue { session in
            try session.transaction { try body(PostgresPlanning(session: session, runID: runID)) }
        }
    }

    /// Plans as a run of `job` would, in a transaction rolled back at its end whatever `body`
    /// did; `body` gets the throwaway run's id.
    public func planDryRun<T: Sendable>(
        job: String, now: Date, _ body: @escaping @Sendable (any LedgerPlanning, Int64) throws -> T
    ) async throws -> T {
        try await onQueue { session in
            try session.rolledBack {
                let runID = try LedgerRuns(sql: session).start(job: job, inputs: [], simulated: false, now: now)
                return try body(PostgresPlanning(session: session, runID: runID), runID)
            }
        }
    }

    /// Runs `body` with a read-only view of one snapshot of the ledger, on the ledger's queue.
    public func reading<T: Sendable>(_ body: @escaping @Sendable (any LedgerReading) throws -> T) async throws -> T {
        try await onQueue { session in try session.snapshot { try body(PostgresReading(session: session)) } }
    }

    /// Up to `limit` pending creates after `rowID` (of run `runID`, when given), in the order
    /// their intents were recorded.
    public func pendingCreates(claimedBy runID: Int64?, after rowID: Int64, limit: Int) async throws
        -> [PendingCreate]
    {
        try await onQueue { session in
            try LedgerSending(sql: session).pendingCreates(claimedBy: runID, after: rowID, limit: limit)
        }
    }

    /// Marks a pending create as attempted at `date`, committed before its request leaves: one
    /// statement, committed on its own (one round trip, where a transaction would take three).
    public func markAttempted(_ create: PendingCreate, at date: Date) async throws {
        try await onQueue { session in try LedgerSending(sql: session).markAttempted(create, at: date) }
    }

    /// Records the outcomes of sent creates, and what becomes of sessions that arrived expired,
    /// in one transaction.
    public func record(
        _ outcomes: [(PendingCreate, SendOutcome)], expired: [ExpiredOnArrival], runID: Int64, now: Date
    ) async throws {
        try await onQueue { session in
            try session.transaction {
                try LedgerSending(sql: session).record(outcomes, expired: expired, runID: runID, now: now)
            }
        }
    }
}
