/// A session of the ledger that is not final yet (not completed with a decision, not expired),
/// as `sync` reads it.
public struct OpenSession: Sendable, Equatable {
    /// The applicant's place in the ledger, for paging.
    public var rowID: Int64
    public var externalID: String
    public var sessionID: String
}
