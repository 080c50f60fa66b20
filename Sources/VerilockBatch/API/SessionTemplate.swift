/// The job's request template: what every create carries unless the row says otherwise.
public struct SessionTemplate: Sendable, Equatable {
    /// The verification profile every session uses.
    public var profileID: String
    /// The default redirect URL.
    public var redirectURL: String?
    /// The default link lifetime in seconds.
    public var expiresIn: Int?
    /// Metadata sent with every session; a row's own metadata keys win.
    public var metadata: [String: JSONValue]

    /// A template with the given values.
    public init(
        profileID: String,
        redirectURL: String? = nil,
        expiresIn: Int? = nil,
        metadata: [String: JSONValue] = [:]
    ) {
        self.profileID = profileID
        self.redirectURL = redirectURL
        self.expiresIn = expiresIn
        self.metadata = metadata
    }

    /// The canonical JSON body of the create request for `row`: only fields that have values,
    /// keys sorted, so the same row always gives the same bytes.
    public func requestBody(for row: ApplicantRow) -> [UInt8] {
        var members: [(key: String, value: JSONValue)] = []
        if let email = row.email { members.append(("applicant_email", .string(email))) }
        if let name = row.name { members.append(("applicant_name", .string(name))) }
        if let expires = row.expiresIn ?? expiresIn { members.append(("expires_in", .integer(Int64(expires)))) }
        members.append(("external_id", .string(row.externalID)))
        let mergedMetadata = metadata.merging(row.metadata) { _, rowValue in rowValue }
        if !mergedMetadata.isEmpty { members.append(("metadata", .object(mergedMetadata))) }
        members.append(("profile_id", .string(profileID)))
        if let redirect = row.redirectURL ?? redirectURL { members.append(("redirect_url", .string(redirect))) }
        var out: [UInt8] = []
        out.reserveCapacity(256)
        JSONValue.appendObject(members, to: &out)
        return out
    }

    /// The Idempotency-Key of one logical create: the same profile, external_id and generation
    /// always give the same key, even from a new ledger.
    public func idempotencyKey(externalID: String, generation: Int) -> String {
        var hash = SHA256()
        hash.update("verilock-batch/1\u{0}".utf8)
        hash.update(profileID.lowercased().utf8)
        hash.update([0])
        hash.update(externalID.utf8)
        hash.update([0])
        hash.update(String(generation).utf8)
        return "vb1-" + hash.finalizeHex()
    }
}
