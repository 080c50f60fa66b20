/// One line of the rejects file.
public struct RejectRow: Sendable, Equatable {
    public var fileIndex: Int
    public var line: Int
    public var externalID: String?
    /// Why the row has no link.
    public var reason: RejectReason
    public var message: String
    /// The input record, when it could be read (``InputRecordText``).
    public var record: String?
    /// The header naming the record's values, when it holds values only.
    public var layout: [String]?
}
