/// What a run does with one input row, as ``RunPlanner`` decides it and the ledger records it.
public struct PlannedRow: Sendable, Equatable {
    /// The create to record as pending before anything is sent.
    public struct Intent: Sendable, Equatable {
        public var generation: Int
        public var idempotencyKey: String
        public var fingerprint: String
        public var body: [UInt8]
        /// Whether the applicant has a session this create replaces (a reissue, or a retry after one).
        public var replacesSession: Bool
    }

    /// What an earlier run left that this run takes over.
    public enum Claim: Sendable, Equatable {
        /// A create still pending: this run settles it, with the key and body it was first sent with.
        case pending
        /// A session made by a run that died before writing its output: this run delivers it.
        case delivery
    }

    /// The row's place in the run's input order.
    public var seq: Int64
    public var fileIndex: Int
    public var line: Int
    public var externalID: String?
    public var outcome: PlannedOutcome
    /// Why a row is rejected, or what a notice says.
    public var message: String?
    public var email: String?
    public var name: String?
    public var intent: Intent?
    public var claim: Claim?
    /// The input record (``InputRecordText``), where it may be needed: every row but existing ones,
    /// and every row when the output passes input columns through.
    public var record: String?
    /// Whether the record stays in the run's history even for a row to send (the output passes
    /// input columns through); otherwise a sent row's record is kept only while its create is
    /// pending, and with its rejection if it fails.
    public var keepsRecordInRun = false
    /// The session a row that already has one is written with.
    public var session: ApplicantEntry.Session?

    /// Whether the ledger records the row in the run's history (`run_row`). Existing rows, nearly
    /// all of a nightly rerun, are not: the run's input files and their SHA-256 say what they were.
    public var isRecorded: Bool { outcome != .existing }
}
