import Foundation

/// `run --sync` stopped before sending because its sync did not finish: sending on stale
/// statuses could reissue a link to an applicant who has completed.
public struct SyncFailed: Error, Sendable, Equatable, LocalizedError, CustomStringConvertible {
    /// The sync's report (its exit code is the run's).
    public var report: SyncReport

    public init(report: SyncReport) {
        self.report = report
    }

    public var description: String {
        "the sync before the run did not finish (\(report.stoppedBecause ?? "exit \(report.exitCode)")): "
            + "nothing was sent; run again"
    }

    public var errorDescription: String? { description }
}
