/// What `verilock-batch ledger check` found.
public struct LedgerCheck: Sendable, Equatable, Codable {
    /// The ledger's path.
    public var ledger: String
    /// The newest schema migration the ledger has.
    public var schema: String
    /// The newest schema migration this tool knows.
    public var toolSchema: String
    /// What SQLite's integrity and foreign-key checks, and the recount of the funnel, reported
    /// (empty: sound).
    public var problems: [String]
    /// Applicants by state: `created`, `pending`, `failed`.
    public var applicants: [String: Int]
    /// Sessions ever created.
    public var sessions: Int
    /// Runs recorded.
    public var runs: Int
    /// The ledger file and its write-ahead log, in bytes.
    public var bytes: Int64

    /// Whether the ledger is sound.
    public var isSound: Bool { problems.isEmpty }

    /// The text `ledger check` prints.
    public var text: String {
        let states = ["created", "pending", "failed"].map { "\($0) \(applicants[$0] ?? 0)" }
        var lines = [
            "ledger      \(ledger)",
            "schema      \(schema) (this tool: \(toolSchema))",
            "applicants  \(states.joined(separator: ", "))",
            "sessions    \(sessions)",
            "runs        \(runs)",
            "size        \(bytes) bytes",
        ]
        if isSound {
            lines.append("integrity   ok")
        } else {
            lines.append("integrity   \(problems.count) problems:")
            lines += problems.prefix(20).map { "  \($0)" }
        }
        return lines.joined(separator: "\n")
    }
}
