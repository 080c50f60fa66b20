import Foundation

/// What a ledger holds, for `verilock-batch status`.
public struct LedgerStatus: Sendable, Equatable, Codable {
    /// One run, as recorded.
    public struct RunSummary: Sendable, Equatable, Codable {
        public var id: Int64
        public var job: String
        public var startedAt: String
        public var finishedAt: String?
        public var exitCode: Int?
        public var counts: RunCounts?
    }

    /// An applicant, for the pending and expiring lists.
    public struct Applicant: Sendable, Equatable, Codable {
        public var externalID: String
        public var runID: Int64
        public var expiresAt: String?
        public var lastError: String?
    }

    /// The ledger's path.
    public var ledger: String
    /// The ledger's size (with its WAL), in bytes.
    public var bytes: Int64 = 0
    /// When the oldest applicant still holding personal data was last written (ISO 8601).
    public var oldestPersonalData: String?
    /// Applicants whose personal data retention erased.
    public var erased = 0
    /// What the next prune would remove, under the job's retention (when a job is named).
    public var nextPrune: PruneReport?
    /// Applicants by state: `created`, `pending`, `failed`.
    public var applicants: [String: Int] = [:]
    /// Created links already expired.
    public var expired = 0
    /// Created links that expire within a day.
    public var expiringWithinDay = 0
    /// Sessions ever created (replaced ones too).
    public var sessions = 0
    /// The most recent runs, newest first.
    public var runs: [RunSummary] = []
    /// Rows still pending (a run died, or the API did not answer), oldest first, at most 20.
    public var pending: [Applicant] = []
    /// Links that expire within a day, soonest first, at most 20.
    public var expiring: [Applicant] = []
    /// Where the applicants with a session stand, by job, as `sync` last heard.
    public var funnel: [String: Funnel] = [:]
    /// The same, for every job together.
    public var funnelTotal = Funnel()

    /// The text `status` prints.
    public var text: String {
        var lines = ["ledger \(ledger) (\(bytes) bytes)"]
        let states = ["created", "pending", "failed"].map { "\($0) \(applicants[$0] ?? 0)" }
        lines.append("applicants   \(states.joined(separator: ", "))")
        lines.append(
            "links        \(expired) expired, \(expiringWithinDay) expiring within a day; \(sessions) sessions ever")
        lines.append(
            "personal data oldest from \(oldestPersonalData ?? "none held"); \(erased) applicants erased by retention")
        if let next = nextPrune {
            lines.append(
                "next prune   history of \(next.runs) runs (\(next.runRows) rows), personal data of "
                    + "\(next.applicantsErased) applicants")
        }
        if !funnel.isEmpty {
            lines.append("verification (as `sync` last heard):")
            for (job, stages) in funnel.sorted(by: { $0.key < $1.key }) { lines.append("  \(job): \(stages.text)") }
            if funnel.count > 1 { lines.append("  all jobs: \(funnelTotal.text)") }
        }
        lines.append("runs (newest first):")
        if runs.isEmpty { lines.append("  none") }
        for run in runs {
            let end = run.finishedAt.map { "ended \($0)" } ?? "did not finish"
            let code = run.exitCode.map { "exit \($0)" } ?? "no exit code"
            var line = "  #\(run.id) \(run.job) started \(run.startedAt), \(end), \(code)"
            if let counts = run.counts {
                line +=
                    ": read \(counts.rowsRead), created \(counts.created), reissued \(counts.reissued), "
                    + "existing \(counts.existing), rejected \(counts.rejected)"
            }
            lines.append(line)
        }
        if !pending.isEmpty {
            lines.append("pending (run again to settle):")
            for item in pending {
                lines.append("  \(item.externalID) (run \(item.runID))" + (item.lastError.map { ": \($0)" } ?? ""))
            }
        }
        if !expiring.isEmpty {
            lines.append("expiring within a day:")
            for item in expiring { lines.append("  \(item.externalID) expires \(item.expiresAt ?? "?")") }
        }
        return lines.joined(separator: "\n")
    }
}

extension LedgerStatus: JSONReport {}
