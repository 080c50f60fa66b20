import Foundation

/// The memory of every session the tool made, as the pipeline and the commands use it: typed
/// operations, each asynchronous, none blocking a thread of Swift's cooperative pool.
///
/// Work that reads or records many rows runs inside one transaction on the ledger's own thread
/// (or on the calling thread, for an implementation made to run there under a deterministic
/// executor), through a synchronous view: a run's planning (``planRun(runID:_:)``, ``LedgerPlanning``)
/// and the reads behind the output, rejects and export files (``reading(_:)``,
/// ``LedgerReading``).
///
/// ``SQLiteLedger`` implements it; it is the seam another backend plugs into.
public protocol Ledger: Sendable {
    /// Where the ledger is, for messages (a file path); never holds a secret.
    var location: String { get }

    /// Records the start of a run of `job` and its input files; returns the run's id.
    func startRun(job: String, inputs: [(path: String, size: Int64?)], simulated: Bool, now: Date) async throws
        -> Int64

    /// Records how run `runID` ended.
    func finishRun(_ runID: Int64, exitCode: Int32, counts: RunCounts, now: Date) async throws

    /// Runs run `runID`'s planning in one transaction on the ledger's own thread: committed when
    /// `body` returns, rolled back when it throws.
    func planRun<T: Sendable>(runID: Int64, _ body: @escaping @Sendable (any LedgerPlanning) throws -> T)
        async throws -> T

    /// Plans as a run of `job` would, in a transaction rolled back at its end whatever `body`
    /// did; `body` gets the throwaway run's id.
    func planDryRun<T: Sendable>(
        job: String, now: Date, _ body: @escaping @Sendable (any LedgerPlanning, Int64) throws -> T
    ) async throws -> T

    /// Up to `limit` pending creates after `rowID`, in the order their intents were recorded;
    /// only those run `runID` claimed, when given (a run sends its own: on a shared ledger,
    /// another shard's are that shard's to send).
    func pendingCreates(claimedBy runID: Int64?, after rowID: Int64, limit: Int) async throws -> [PendingCreate]

    /// Marks a pending create as attempted at `date`, just before its request leaves.
    func markAttempted(_ create: PendingCreate, at date: Date) async throws

    /// Records the outcomes of sent creates, and what becomes of sessions that arrived expired,
    /// in one transaction.
    func record(_ outcomes: [(PendingCreate, SendOutcome)], expired: [ExpiredOnArrival], runID: Int64, now: Date)
        async throws

    /// How many sessions are not final (completed with a decision, or expired, as the API last
    /// said), and when the oldest of them was created; nil when every one is.
    func openSessionsSummary() async throws -> (count: Int, oldest: Date)?

    /// Up to `limit` sessions that are not final and that no report since `since` covered,
    /// after `rowID`, in ledger order.
    func openSessions(notSyncedSince since: Date, after rowID: Int64, limit: Int) async throws -> [OpenSession]

    /// Records what the API reports of sessions, in one transaction, with every change of
    /// status or decision in the status history.
    func record(reports: [SessionReport], now: Date) async throws -> SyncTally

    /// Where the applicants with a session stand, by job.
    func funnel() async throws -> [String: Funnel]

    /// Runs `body` with a read-only view of one consistent state of the ledger, on the ledger's
    /// own thread.
    func reading<T: Sendable>(_ body: @escaping @Sendable (any LedgerReading) throws -> T) async throws -> T

    /// What the ledger holds at `now`, with the newest `limit` runs.
    func status(now: Date, runs limit: Int) async throws -> LedgerStatus

    /// Deletes run history and erases personal data as `retention` says (or, on a dry run,
    /// counts what it would); says what.
    func prune(retention: RetentionPolicy, now: Date, dryRun: Bool) async throws -> PruneReport

    /// Checks the ledger's integrity and schema version, and counts what it holds.
    func check() async throws -> LedgerCheck

    /// Writes a consistent copy of the ledger to the new file `target`, created 0600.
    func backup(to target: String) async throws
}

extension Ledger {
    /// Up to `limit` pending creates after `rowID`, whichever run claimed them.
    public func pendingCreates(after rowID: Int64, limit: Int) async throws -> [PendingCreate] {
        try await pendingCreates(claimedBy: nil, after: rowID, limit: limit)
    }

    /// Records the outcomes of sent creates, none of which arrived expired.
    public func record(_ outcomes: [(PendingCreate, SendOutcome)], runID: Int64, now: Date) async throws {
        try await record(outcomes, expired: [], runID: runID, now: now)
    }

    /// What the ledger holds at `now`, with the newest ten runs.
    public func status(now: Date) async throws -> LedgerStatus {
        try await status(now: now, runs: 10)
    }

    /// Deletes run history and erases personal data as `retention` says; says what.
    public func prune(retention: RetentionPolicy, now: Date) async throws -> PruneReport {
        try await prune(retention: retention, now: now, dryRun: false)
    }
}
