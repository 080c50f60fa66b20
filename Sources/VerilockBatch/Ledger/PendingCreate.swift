import Foundation

/// A pending create, as the send stage reads it from the ledger.
public struct PendingCreate: Sendable, Equatable {
    /// The create's place in the order intents were recorded (`pending_create.seq`), for paging.
    public var rowID: Int64
    /// The request to send.
    public var request: CreateSessionRequest
    /// The generation this create makes.
    public var generation: Int
    /// Whether a request for it may have been sent before (its outcome is then unknown).
    public var attempted: Bool
    /// When its last request left, if the ledger knows.
    public var attemptedAt: Date?
    /// Sessions the ledger already holds for this applicant (earlier generations).
    public var knownSessionIDs: Set<String>
    /// Runs that ended with this create unsettled after a success answer without a session.
    public var unsettledRuns: Int

    /// A pending create with the given values.
    public init(
        rowID: Int64,
        request: CreateSessionRequest,
        generation: Int,
        attempted: Bool = false,
        attemptedAt: Date? = nil,
        knownSessionIDs: Set<String> = [],
        unsettledRuns: Int = 0
    ) {
        self.rowID = rowID
        self.request = request
        self.generation = generation
        self.attempted = attempted
        self.attemptedAt = attemptedAt
        self.knownSessionIDs = knownSessionIDs
        self.unsettledRuns = unsettledRuns
    }
}
