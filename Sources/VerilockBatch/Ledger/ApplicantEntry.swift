/// What the ledger knows of an applicant.
public enum ApplicantState: String, Sendable, Equatable {
    /// A create was decided and may have been sent; its outcome is not known yet.
    case pending
    /// The applicant has a session.
    case created
    /// The API refused the last create for good.
    case failed
}

/// What the ledger knows of one applicant, as a rerun needs it.
public struct ApplicantEntry: Sendable, Equatable {
    /// The applicant's session, for the output of a row that already has one.
    public struct Session: Sendable, Equatable {
        public var id: String
        public var url: String
        public var expiresAt: String?
        /// Whether the API said the applicant completed it (`sync`).
        public var completed = false
    }

    public var state: ApplicantState
    /// The generation of the current session (or intent).
    public var generation: Int
    /// SHA-256 of the last request body (read for pending and failed applicants only).
    public var fingerprint = ""
    /// When the current link dies, in seconds since 1970.
    public var expiresEpoch: Int64?
    /// The stored error, for a failed row.
    public var failure: APIFailure?
    /// The run that last touched the applicant.
    public var runID: Int64 = 0
    /// The current session of a created applicant whose link is still held.
    public var session: Session?
    /// Whether retention erased the applicant's personal data (its link among it).
    public var erased = false
    /// What the API last said of the current session (`sync`): its status, kept as sent.
    public var sessionStatus: String?
    /// The current session's decision, once completed and decided.
    public var decision: String?

    /// Whether the API said the applicant completed the current session (``SessionReport/isCompleted(status:decision:)``).
    public var hasCompleted: Bool { SessionReport.isCompleted(status: sessionStatus, decision: decision) }

    /// An entry with the given values.
    public init(
        state: ApplicantState,
        generation: Int,
        fingerprint: String = "",
        expiresEpoch: Int64? = nil,
        failure: APIFailure? = nil,
        runID: Int64 = 0,
        session: Session? = nil,
        erased: Bool = false
    ) {
        self.state = state
        self.generation = generation
        self.fingerprint = fingerprint
        self.expiresEpoch = expiresEpoch
        self.failure = failure
        self.runID = runID
        self.session = session
        self.erased = erased
    }
}
