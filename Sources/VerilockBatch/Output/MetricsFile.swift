import Foundation

/// The run's metrics in Prometheus text format, for node_exporter's textfile collector: written
/// to a temporary file and renamed, so the collector never reads half a file.
public enum MetricsFile {
    /// The metrics text for `report`.
    public static func text(for report: RunReport, finishedAt: Date) -> String {
        let job = "job=\"\(escape(report.job))\""
        var lines: [String] = []
        func metric(_ name: String, _ help: String, _ samples: [(labels: String, value: Double)]) {
            lines.append("# HELP verilock_batch_\(name) \(help)")
            lines.append("# TYPE verilock_batch_\(name) gauge")
            for sample in samples {
                let labels = [job, sample.labels].filter { !$0.isEmpty }.joined(separator: ",")
                lines.append("verilock_batch_\(name){\(labels)} \(format(sample.value))")
            }
        }
        metric("last_run_timestamp_seconds", "When the last run ended.", [("", finishedAt.timeIntervalSince1970)])
        if let success = report.lastSuccessAt.flatMap(Timestamp.parse) {
            metric(
                "last_success_timestamp_seconds", "When the last run that exited 0 ended.",
                [("", success.timeIntervalSince1970)])
        }
        metric("last_run_duration_seconds", "How long the last run took.", [("", report.durationSeconds)])
        metric("last_run_exit_code", "The last run's exit code.", [("", Double(report.exitCode))])
        let counts = report.counts
        let outcomes: [(String, Int)] = [
            ("created", counts.created), ("reissued", counts.reissued), ("existing", counts.existing),
            ("invalid", counts.invalid), ("duplicate", counts.duplicate), ("failed", counts.failed),
            ("expired", counts.expired), ("pending", counts.pending),
        ]
        metric(
            "last_run_rows", "Rows of the last run by outcome.",
            outcomes.map { ("outcome=\"\($0.0)\"", Double($0.1)) })
        metric(
            "last_run_requests", "Requests of the last run by HTTP status (0: no answer).",
            counts.statuses.sorted { $0.key < $1.key }.map { ("status=\"\(escape($0.key))\"", Double($0.value)) })
        metric("last_run_rate_limited", "429 answers in the last run.", [("", Double(counts.rateLimited))])
        if let funnel = report.funnel {
            metric("invited", "Applicants with a session.", [("", Double(funnel.invited))])
            metric(
                "funnel", "Applicants with a session by what sync last heard of it.",
                funnel.stages.map { ("stage=\"\($0.name)\"", Double($0.count)) })
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the metrics for `report` to `path` (mode 0600, atomically).
    public static func write(_ report: RunReport, finishedAt: Date, to path: String) throws {
        let writer = try AtomicFileWriter(path: path)
        try writer.write(Array(text(for: report, finishedAt: finishedAt).utf8))
        try writer.commit()
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
