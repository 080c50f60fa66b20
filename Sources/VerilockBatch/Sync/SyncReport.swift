/// What a `sync` did: requests, what the API reported, and how it ended.
public struct SyncReport: Sendable, Equatable, Codable {
    /// Requests sent (every attempt, lookups of pages and sessions alike).
    public var requests = 0
    /// Answers that were 429.
    public var rateLimited = 0
    /// Pages of `GET /sessions` read.
    public var pages = 0
    /// Sessions fetched one by one (`GET /sessions/{id}`): open ones no page listed.
    public var fetched = 0
    /// Of those, the ones the API does not know (404).
    public var missing = 0
    /// What the reports did to the ledger.
    public var tally = SyncTally()
    /// Why the list could not be used (then every open session was fetched one by one).
    public var listUnavailable: String?
    /// Why the sync stopped before the end, if it did.
    public var stoppedBecause: String?
    /// The process exit code.
    public var exitCode: Int32 = 0
    /// How long the sync took, from opening the ledger to its last record.
    public var durationSeconds = 0.0

    public init() {}

    /// The summary printed at the end.
    public var text: String {
        var lines = [
            "verilock-batch sync: \(requests) requests in \(String(format: "%.1f", durationSeconds)) s (\(pages) list pages, "
                + "\(fetched) sessions fetched one by one)",
            "  sessions reported  \(tally.matched) (\(tally.changed) changed)",
            "  made elsewhere     \(tally.foreign) (ignored)",
            "  replaced sessions  \(tally.otherSessions) (ignored)",
        ]
        if missing > 0 { lines.append("  unknown to the API \(missing)") }
        if rateLimited > 0 { lines.append("  rate limited       \(rateLimited)") }
        if let listUnavailable { lines.append("  list not used: \(listUnavailable)") }
        if let stoppedBecause { lines.append("stopped: \(stoppedBecause)") }
        return lines.joined(separator: "\n")
    }

    enum CodingKeys: String, CodingKey {
        case requests, pages, fetched, missing, tally
        case rateLimited = "rate_limited"
        case listUnavailable = "list_unavailable"
        case stoppedBecause = "stopped_because"
        case exitCode = "exit_code"
        case durationSeconds = "duration_seconds"
    }
}
