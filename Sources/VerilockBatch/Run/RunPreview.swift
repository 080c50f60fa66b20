import Foundation
import Logging

/// What a run would do, without doing it: `run --dry-run` (against the ledger) and `validate`
/// (against no ledger). Rows are read and planned exactly as a run would, in a transaction that
/// is rolled back; nothing is sent and no file is written.
public struct RunPreview: Sendable, Equatable, Codable {
    /// Rows read.
    public var rowsRead = 0
    /// Rows a run would create a session for (new, or pending from a run that died).
    public var wouldCreate = 0
    /// Rows whose expired link a run would reissue.
    public var wouldReissue = 0
    /// Rows that already have a valid session.
    public var wouldSkip = 0
    /// Rows a run would reject, by ``RejectReason`` (its raw value).
    public var wouldReject: [String: Int] = [:]
    /// The rate creates would go at, per second.
    public var requestsPerSecond = 0.0

    /// Seconds the creates would take at the rate.
    public var etaSeconds: Double { Double(wouldCreate + wouldReissue) / max(requestsPerSecond, 0.001) }
    /// Rows rejected in all.
    public var rejected: Int { wouldReject.values.reduce(0, +) }

    /// The summary printed by `run --dry-run` and `validate`.
    public var summary: String {
        let reasons = wouldReject.sorted { $0.key < $1.key }.map { "\($0.key) \(Self.number($0.value))" }
        let creates = wouldCreate + wouldReissue
        let perMinute = requestsPerSecond * 60
        return [
            "rows read      \(Self.number(rowsRead))",
            "would create   \(Self.number(wouldCreate))",
            "would reissue  \(Self.number(wouldReissue))",
            "would skip     \(Self.number(wouldSkip)) (existing)",
            "would reject   \(Self.number(rejected))"
                + (reasons.isEmpty ? "" : " (\(reasons.joined(separator: ", ")))"),
            "eta            \(Self.number(creates)) creates at \(Self.number(Int(perMinute.rounded())))/min: "
                + Self.duration(etaSeconds),
        ].joined(separator: "\n")
    }

    static func number(_ value: Int) -> String {
        value.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US")))
    }

    static func duration(_ seconds: Double) -> String {
        if seconds < 90 { return "about \(Int(seconds.rounded())) s" }
        if seconds < 5400 { return "about \(Int((seconds / 60).rounded())) min" }
        return String(format: "about %.1f h", seconds / 3600)
    }

    /// Plans `job` against its ledger (or an empty one if it has none yet), then rolls back.
    public static func dryRun(job: JobConfiguration, now: Date = Date(), logger: Logger) async throws -> RunPreview {
        guard LedgerAccess.exists(for: job, now: now) else {
            return try await plan(job: job, ledger: try await SQLiteLedger.inMemory(), now: now, logger: logger) {
                _, _ in
            }
        }
        let access = try await LedgerAccess.open(job: job, use: .write, now: now, logger: logger)
        return try await access.use { ledger in
            try await plan(job: job, ledger: ledger, now: now, logger: logger) { _, _ in }
        }
    }

    /// Checks every row of `job` against no ledger; calls `onReject` with each rejected row
    /// (and the path of its file).
    public static func validate(
        job: JobConfiguration,
        now: Date = Date(),
        logger: Logger,
        onReject: @escaping @Sendable (String, RejectRow) throws -> Void
    ) async throws -> RunPreview {
        try await plan(
            job: job, ledger: try await SQLiteLedger.inMemory(), now: now, logger: logger, onReject: onReject)
    }

    private static func plan(
        job: JobConfiguration,
        ledger: any Ledger,
        now: Date,
        logger: Logger,
        onReject: @escaping @Sendable (String, RejectRow) throws -> Void
    ) async throws -> RunPreview {
        let paths = try InputStage.expandInputs(job.inputs)
        return try await ledger.planDryRun(job: job.name, now: now) { planning, runID in
            let stage = InputStage(job: job, runID: runID, now: now, control: RunControl(), logger: logger)
            let counts = try stage.run(paths: paths, planning: planning, spool: nil)
            var preview = RunPreview()
            preview.rowsRead = counts.rows
            preview.requestsPerSecond = job.api.rateLimit.requestsPerSecond * job.api.rateShare
            for (outcome, count) in counts.byOutcome {
                switch outcome {
                case .create, .settle, .settleChanged: preview.wouldCreate += count
                case .carried: break  // Not input rows: counted in `carriedPending` below.
                case .reissue: preview.wouldReissue = count
                case .existing: preview.wouldSkip = count
                case .invalid, .duplicate, .failed, .expired, .erased:
                    if let reason = RejectReason(planned: outcome) { preview.wouldReject[reason.rawValue] = count }
                }
            }
            preview.wouldCreate += counts.carriedPending
            try planning.forEachPlannedReject { row in
                try onReject(paths.indices.contains(row.fileIndex) ? paths[row.fileIndex] : "?", row)
            }
            return preview
        }
    }
}
