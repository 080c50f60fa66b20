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
}
