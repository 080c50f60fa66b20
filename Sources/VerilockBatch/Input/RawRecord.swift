/// One record as a reader found it, before mapping and validation.
public struct RawRecord: Sendable {
    /// What the record holds.
    public enum Content: Sendable {
        /// The cells of a CSV record, in header order.
        case cells([String])
        /// The members of an NDJSON object.
        case object([String: JSONValue])
        /// A record that could not be read as its format; the reason says why.
        case malformed(String)
    }

    /// The physical line where the record starts (the CSV header is line 1).
    public var line: Int
    /// The record's content.
    public var content: Content
}
