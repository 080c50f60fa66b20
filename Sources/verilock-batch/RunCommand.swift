import ArgumentParser
import Foundation
import Logging
import VerilockBatch
import VerilockSimulator

/// `verilock-batch run`: the main job.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Read the inputs, create the missing sessions, write the mail-merge and rejects files.",
        discussion: """
            Every input row ends in the output file or in the rejects file. A rerun skips everyone the \
            ledger already holds, settles requests whose answer was lost, and reissues expired links. Exit \
            0: every row has a session; 1: some rows were rejected or left pending; 65/66: an input is \
            unreadable or missing; 69: the API stayed unavailable; 73: an output or the ledger cannot be \
            written; 75: another run holds the ledger; 77: the key was refused; 78: the job is invalid; \
            129/130/143: stopped by SIGHUP/SIGINT/SIGTERM (run the same command again to continue).

            The flags override the job file's values; with them the job file is optional.

            Examples:
              verilock-batch run jobs/nightly.yaml --ping https://hc-ping.com/UUID
              verilock-batch run jobs/migration.yaml --dry-run
              zcat export.csv.gz | verilock-batch run jobs/nightly.yaml --input -
            """
    )

    @OptionGroup var options: JobOptions

    @Option(name: .long, help: "Write the run report (JSON) to this file.")
    var report: String?

    @Flag(name: .customLong("dry-run"), help: "Read and plan everything, send nothing, write nothing but the report.")
    var dryRun = false

    @Option(name: .customLong("metrics-file"), help: "Write Prometheus metrics (textfile collector format) here.")
    var metricsFile: String?

    @Option(name: .customLong("ping-url"), help: "Healthchecks-style ping URL: /start, then the URL or /<exit code>.")
    var pingURL: String?

    @Option(name: .long, help: "Progress: auto (a line on a terminal, a log line every 30 s otherwise), always, never.")
    var progress = ProgressOption.auto

    @Flag(name: .long, help: "Sync the ledger's open sessions with the API first (see `sync`); stop if that fails.")
    var sync = false

    @Flag(name: .long, help: "No progress line or progress logs.")
    var quiet = false

    @OptionGroup var logging: LoggingOptions

    /// How progress is shown, from --progress, --quiet and whether stderr is a terminal.
    func progressMode() -> ProgressReporter.Mode {
        if quiet || progress == .never { return .off }
        if progress == .always || isatty(STDERR_FILENO) == 1 { return .line }
        return .log(interval: .seconds(30))
    }

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "verilock-batch")
        var pinger: Pinger?
        var code: Int32
        do {
            if let pingURL {
                pinger = try Pinger(url: pingURL, environment: ProcessInfo.processInfo.environment, logger: logger)
                await pinger?.start()
            }
            let job = try JobLoader.load(path: options.job, overrides: options.overrides)
            code = dryRun ? try await preview(job, logger: logger) : try await execute(job, logger: logger)
        } catch {
            printError("error: \(error.localizedDescription)")
            code = ExitStatus(for: error).rawValue
        }
        await pinger?.finish(exitCode: code)
        await pinger?.shutdown()
        if code != 0 { throw ExitCode(code) }
    }

    /// `--dry-run`: plans the job, prints what a run would do; returns the exit code.
    private func preview(_ job: JobConfiguration, logger: Logger) async throws -> Int32 {
        if let report {
            try PathCollisions(
                reads: PathCollisions.reads(
                    of: job, jobFile: options.job, ledgerPath: LedgerAccess.file(of: job, now: Date())),
                writes: [PathCollisions.File("report", report)]
            ).check()
        }
        let preview = try await RunPreview.dryRun(job: job, logger: logger)
        printError("verilock-batch dry run of job '\(job.name)': nothing was sent or written\n" + preview.summary)
        if let report { try preview.write(to: report) }
        return preview.rejected > 0 ? ExitStatus.someRejected.rawValue : ExitStatus.success.rawValue
    }

    /// Runs the job with progress, prints the summary, writes the report and metrics; returns the
    /// exit code.
    private func execute(_ job: JobConfiguration, logger: Logger) async throws -> Int32 {
        let reporter = ProgressReporter(mode: progressMode(), logger: logger) { text in
            FileHandle.standardError.write(Data(text.utf8))
        }
        let files =
            (report.map { [PathCollisions.File("report", $0)] } ?? [])
            + (metricsFile.map { [PathCollisions.File("metrics file", $0)] } ?? [])
        let result = try await Self.execute(
            job, jobFile: options.job, files: files, progress: reporter, sync: sync, logger: logger)
        reporter.finish()
        printError(result.summary)
        if let report { try result.write(to: report) }
        if let metricsFile { try MetricsFile.write(result, finishedAt: Date(), to: metricsFile) }
        return result.exitCode
    }

    /// Connects to the API (or starts the in-process simulator the job asks for) and runs the job.
    /// `files` are the run's other outputs (report, metrics), checked against its inputs.
    static func execute(
        _ job: JobConfiguration, jobFile: String? = nil, files: [PathCollisions.File] = [], progress: ProgressReporter,
        sync: Bool = false, logger: Logger
    ) async throws -> RunReport {
        let connection = try await APIConnection.open(for: job, logger: logger)
        let control = RunControl()
        let signals = await SignalHandling(control: control)
        defer { signals.cancel() }
        let result: Result<RunReport, any Error>
        do {
            // A ledger no run has used yet holds no session to sync.
            if sync && LedgerAccess.exists(for: job, now: Date()) {
                let synced = try await SyncRunner(
                    job: job, api: connection.api, clock: ContinuousClock(), control: control,
                    secrets: [connection.key], logger: logger
                ).run()
                printError(synced.text)
                guard synced.exitCode == 0 else { throw SyncFailed(report: synced) }
            }
            let runner = BatchRunner(
                job: job, api: connection.api, clock: ContinuousClock(), control: control, secrets: [connection.key],
                otherFiles: PathCollisions(
                    reads: (job.api.keyFile.map { [PathCollisions.File("API key file", $0)] } ?? [])
                        + (jobFile.map { [PathCollisions.File("job file", $0)] } ?? []),
                    writes: files),
                progress: progress.update, logger: logger)
            result = .success(try await runner.run())
        } catch {
            result = .failure(error)
        }
        await connection.close()
        return try result.get()
    }
}
