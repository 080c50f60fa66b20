/// What the API says of one session: an item of `GET /sessions`, or `GET /sessions/{id}`.
/// Unknown statuses and decisions are kept as they are (and count as not final).
public struct SessionReport: Sendable, Equatable, Decodable {
    public var id: String
    public var externalID: String?
    /// `created`, `in_progress`, `processing`, `completed`, `expired`, or a value this tool
    /// does not know.
    public var status: String
    /// `approved`, `declined` or `review` once decided.
    public var decision: String?
    /// When the applicant completed it (ISO 8601).
    public var completedAt: String?
    /// When the link dies (ISO 8601).
    public var expiresAt: String?

    /// A report with the given values.
    public init(
        id: String, externalID: String?, status: String, decision: String? = nil, completedAt: String? = nil,
        expiresAt: String? = nil
    ) {
        self.id = id
        self.externalID = externalID
        self.status = status
        self.decision = decision
        self.completedAt = completedAt
        self.expiresAt = expiresAt
    }

    enum CodingKeys: String, CodingKey {
        case id, status, decision
        case externalID = "external_id"
        case completedAt = "completed_at"
        case expiresAt = "expires_at"
    }

    /// Whether the applicant finished with this session: it is completed, or it carries a
    /// decision (which only a completed session has).
    public var isCompleted: Bool { Self.isCompleted(status: status, decision: decision) }

    /// Whether a session with `status` and `decision` is completed: the one rule the ledger,
    /// the planner and the exports share.
    public static func isCompleted(status: String?, decision: String?) -> Bool {
        status == "completed" || decision != nil
    }

    /// The report as the ledger keeps it, or nil when a value is not what the API sends: a
    /// status or decision that is not a short lowercase word, an id or external_id that is empty
    /// or too long. A timestamp that does not parse is dropped. Nothing else the server wrote is
    /// kept.
    public var checked: SessionReport? {
        func word(_ text: String) -> Bool {
            (1...32).contains(text.utf8.count) && text.utf8.allSatisfy { (0x61...0x7A).contains($0) || $0 == 0x5F }
        }
        guard word(status), decision.map(word) ?? true, (1...255).contains(id.utf8.count),
            externalID.map({ (1...255).contains($0.utf8.count) }) ?? true
        else { return nil }
        var report = self
        report.completedAt = completedAt.flatMap(Timestamp.parse).map(Timestamp.string)
        report.expiresAt = expiresAt.flatMap(Timestamp.parse).map(Timestamp.string)
        // A decision means the applicant completed, whatever the status says.
        if decision != nil { report.status = "completed" }
        return report
    }
}
