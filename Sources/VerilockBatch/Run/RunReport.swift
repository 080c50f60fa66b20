import Foundation

/// How a run ended: counts, files, timing, and the exit code the CLI returns.
public struct RunReport: Sendable, Equatable, Codable {
    /// The run's id in the ledger.
    public var runID: Int64
    /// The job's name.
    public var job: String
    /// Rows by outcome, requests by status.
    public var counts: RunCounts
    /// The output file's path.
    public var outputPath: String
    /// Rows in the output file.
    public var outputRows: Int
    /// The rejects file's path.
    public var rejectsPath: String
    /// Rows in the rejects file.
    public var rejectedRows: Int
    /// Seconds from start to end.
    public var durationSeconds: Double
    /// Seconds spent in the send stage.
    public var sendSeconds: Double
    /// Requests per second while sending.
    public var achievedRate: Double
    /// Whether the run went to the built-in simulator.
    public var simulated: Bool
    /// What stopped the run early, if anything.
    public var stoppedBecause: String?
    /// The process exit code (DESIGN.md section 7).
    public var exitCode: Int32
    /// When the job's last run that exited 0 ended (this one, if it did).
    public var lastSuccessAt: String?
    /// Rows skipped because they belong to other shards (`--shard`).
    public var otherShards = 0
    /// Why lost answers were settled by Idempotency-Key only (`unknown_outcome: auto` found the
    /// lookup endpoint missing or untrustworthy), if they were.
    public var lookupFallback: String?
    /// What the run's closing prune (``RetentionPolicy``) removed, when it ran.
    public var pruned: PruneReport?
    /// Where this job's applicants with a session stand, as `sync` last heard, after the run.
    public var funnel: Funnel?

    /// The exit code for these counts when the run was not stopped: 0 when every row has a
    /// session, 69 when rows are left pending (the API did not answer), 1 when rows were rejected.
    public static func exitCode(for counts: RunCounts) -> Int32 {
        if counts.pending > 0 { return ExitStatus.unavailable.rawValue }
        return counts.rejected > 0 ? ExitStatus.someRejected.rawValue : ExitStatus.success.rawValue
    }

    /// The summary block printed on stderr at the end of a run.
    public var summary: String {
        var lines = [
            "verilock-batch run \(runID) of job '\(job)'\(simulated ? " (against the simulator)" : ""):",
            "  rows read   \(counts.rowsRead)",
            "  created     \(counts.created)",
            "  reissued    \(counts.reissued)",
            "  existing    \(counts.existing)",
            "  rejected    \(counts.rejected) (invalid \(counts.invalid), duplicate \(counts.duplicate), "
                + "failed \(counts.failed), expired \(counts.expired), pending \(counts.pending))"
                + (counts.erased > 0 ? "; \(counts.erased) erased by retention, not sent" : ""),
            "  requests    \(counts.requests) (retries \(counts.retries), 429s \(counts.rateLimited))"
                + String(format: ", %.1f/s", achievedRate),
            String(format: "  duration    %.2f s", durationSeconds),
            "  output      \(outputPath) (\(outputRows) rows)",
            "  rejects     \(rejectsPath) (\(rejectedRows) rows)",
        ]
        if counts.carriedOver > 0 {
            lines.append("  carried over \(counts.carriedOver) (pending from earlier runs, not in this input)")
        }
        if otherShards > 0 { lines.append("  other shards \(otherShards) rows skipped") }
        if let lookupFallback {
            lines.append("  settlement  by Idempotency-Key only: \(lookupFallback)")
        }
        if let stoppedBecause { lines.append("  stopped     \(stoppedBecause)") }
        lines.append("  exit code   \(exitCode)")
        return lines.joined(separator: "\n")
    }
}

/// The process exit codes (DESIGN.md section 7), mapped from outcomes and errors in one place.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    case someRejected = 1
    case usage = 64
    case unreadableInput = 65
    case missingInput = 66
    case unavailable = 69
    case cannotWrite = 73
    case ledgerBusy = 75
    case keyRefused = 77
    case invalidJob = 78
    case hungUp = 129
    case interrupted = 130
    case terminated = 143

    /// The exit code for an error that stopped a command.
    public init(for error: any Error) {
        switch error {
        case let error as InputError:
            switch error {
            case .missing: self = .missingInput
            case .unreadable, .malformed, .wrongEncoding, .invalidUTF16, .notCompressed, .corruptCompressed,
                .truncatedCompressed:
                self = .unreadableInput
            case .missingColumn: self = .invalidJob
            }
        case is ReplayError:
            self = .missingInput
        case let error as JobError:
            if case .invalidFlag = error { self = .usage } else { self = .invalidJob }
        case let error as APIError:
            switch error {
            case .keyRefused: self = .keyRefused
            case .unavailable, .untrustedCertificate, .proxyRefused: self = .unavailable
            case .missingKey, .unreadableKeyFile, .malformedKey, .insecureBaseURL, .liveKeyWithSimulator,
                .unknownProfile, .redirected, .invalidProxy, .keyInClearThroughProxy, .unreadableCAFile:
                self = .invalidJob
            }
        case let error as RunInterrupted:
            self = error.reason.exitStatus
        case let error as SyncFailed:
            self = ExitStatus(rawValue: error.report.exitCode) ?? .unavailable
        case let error as LedgerError:
            switch error {
            case .locked: self = .ledgerBusy
            case .unreachable: self = .unavailable
            case .cannotOpen, .database, .tooNew: self = .cannotWrite
            }
        case is FileWriteError: self = .cannotWrite
        default: self = .cannotWrite
        }
    }
}
