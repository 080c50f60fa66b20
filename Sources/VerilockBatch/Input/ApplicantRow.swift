/// A session field that an input column can feed.
public enum SessionField: String, Sendable, CaseIterable, Hashable {
    case externalID = "external_id"
    case applicantEmail = "applicant_email"
    case applicantName = "applicant_name"
    case expiresIn = "expires_in"
    case redirectURL = "redirect_url"
    case metadata
}

/// One applicant, read and validated: everything a create request needs from the row.
public struct ApplicantRow: Sendable, Equatable {
    /// The caller's own reference, trimmed.
    public var externalID: String
    /// The applicant's e-mail address, if the row has one.
    public var email: String?
    /// The applicant's full name, if the row has one.
    public var name: String?
    /// The link's lifetime in seconds, if the row sets one.
    public var expiresIn: Int?
    /// Where the hosted flow sends the applicant back, if the row sets it.
    public var redirectURL: String?
    /// Metadata from the row (metadata columns and a metadata object), if any.
    public var metadata: [String: JSONValue]

    /// A row with the given values.
    public init(
        externalID: String,
        email: String? = nil,
        name: String? = nil,
        expiresIn: Int? = nil,
        redirectURL: String? = nil,
        metadata: [String: JSONValue] = [:]
    ) {
        self.externalID = externalID
        self.email = email
        self.name = name
        self.expiresIn = expiresIn
        self.redirectURL = redirectURL
        self.metadata = metadata
    }
}
