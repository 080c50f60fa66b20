import Foundation
import Logging
import Synchronization
import Testing

@testable import VerilockBatch

@Suite("Progress, metrics and reports")
struct ReportingTests {
    @Test("the progress line shows bytes read, then created / existing / rejected, rate and ETA")
    func progressLine() {
        var reading = RunProgress(phase: .reading)
        reading.bytesRead = 450
        reading.bytesTotal = 1000
        reading.rowsRead = 12_000
        reading.existing = 11_000
        reading.rejected = 3
        #expect(reading.line == "reading 45%: 12,000 rows, 11,000 existing, 3 rejected")
        var sending = RunProgress(phase: .sending)
        sending.toSend = 1000
        sending.sent = 250
        sending.created = 240
        sending.existing = 5
        sending.rejected = 10
        sending.sendingSeconds = 120
        #expect(sending.line == "sending 25%: 240 created, 5 existing, 10 rejected, 2.0/s, ETA 6m15s")
    }

    @Test("a terminal gets one redrawn line, cleared at the end; --quiet gets nothing")
    func reporterModes() {
        let written = Mutex([String]())
        let line = ProgressReporter(mode: .line, logger: Logger(label: "test")) { text in
            written.withLock { $0.append(text) }
        }
        line.update(RunProgress(phase: .reading))
        line.update(RunProgress(phase: .reading))
        line.finish()
        #expect(written.withLock { $0 }.count == 2)
        #expect(written.withLock { $0 }.allSatisfy { $0.hasPrefix("\r\u{1B}[K") })
        let quiet = ProgressReporter(mode: .off, logger: Logger(label: "test")) { text in
            written.withLock { $0.append(text) }
        }
        quiet.update(RunProgress(phase: .sending))
        quiet.finish()
        #expect(written.withLock { $0 }.count == 2)
    }

    @Test("metrics are Prometheus text, labelled by job, with rows by outcome and requests by status")
    func metrics() {
        var counts = RunCounts()
        counts.created = 7
        counts.invalid = 2
        counts.statuses = ["201": 7, "503": 1]
        counts.rateLimited = 1
        let report = RunReport(
            runID: 3, job: "night\"ly", counts: counts, outputPath: "o", outputRows: 7, rejectsPath: "r",
            rejectedRows: 2, durationSeconds: 12.5, sendSeconds: 10, achievedRate: 0.8, simulated: false,
            stoppedBecause: nil, exitCode: 1, lastSuccessAt: "2026-11-26T02:15:00Z")
        let text = MetricsFile.text(for: report, finishedAt: Date(timeIntervalSince1970: 1_800_000_000))
        #expect(text.contains("verilock_batch_last_run_timestamp_seconds{job=\"night\\\"ly\"} 1800000000\n"))
        #expect(text.contains("verilock_batch_last_success_timestamp_seconds{job=\"night\\\"ly\"} 1795659300\n"))
        #expect(text.contains("verilock_batch_last_run_rows{job=\"night\\\"ly\",outcome=\"created\"} 7\n"))
        #expect(text.contains("verilock_batch_last_run_requests{job=\"night\\\"ly\",status=\"503\"} 1\n"))
        #expect(text.contains("verilock_batch_last_run_exit_code{job=\"night\\\"ly\"} 1\n"))
        #expect(text.contains("# TYPE verilock_batch_last_run_duration_seconds gauge"))
    }

    @Test("a run's report and metrics files are written 0600; last success is the newest exit 0")
    func reportFiles() async throws {
        let harness = RunnerHarness(inputs: ["a.csv": BatchRunnerTests.csv(rows: 3)])
        let report = try await harness.run(FakeSessionsAPI())
        #expect(report.lastSuccessAt != nil)
        let path = harness.folder.path + "/metrics/run.prom"
        try MetricsFile.write(report, finishedAt: Date(), to: path)
        try report.write(to: harness.folder.path + "/report.json")
        for file in [path, harness.folder.path + "/report.json"] {
            let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
        let json =
            try JSONSerialization.jsonObject(with: Data(try harness.folder.read("report.json").utf8)) as? [String: Any]
        #expect(json?["exit_code"] as? Int == 0)
        #expect((json?["counts"] as? [String: Any])?["created"] as? Int == 3)
    }
}
