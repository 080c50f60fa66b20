import Foundation
import Logging

/// One run of a job: the product's pipeline.
///
/// 1. **Read**: stream every input file (CSV or NDJSON) as ``RawRecord`` values.
/// 2. **Validate**: map each record to an ``ApplicantRow`` or a ``RowRejection`` (``RowMapper``).
/// 3. **Dedupe and plan**: against this run (the first occurrence wins) and the ledger
///    (``RunPlanner``); record each row's plan and, for rows to send, their intent (`pending`,
///    with the Idempotency-Key) in one ledger transaction, before anything is sent
///    (``InputStage``). Existing rows are not recorded row by row: they wait in an
///    ``OutputSpool`` for the output file.
/// 4. **Send**: every pending create, at most `concurrency` in flight, under the rate limiter,
///    with retries (``SendStage``, ``SessionSender``).
/// 5. **Record**: each outcome in the ledger, in batches, by the parent task alone.
/// 6. **Write**: the output and rejects files from the ledger and the spool, atomically
///    (``ResultFiles``).
///
/// Collaborators are passed in: the API (``SessionsAPI``), the clock the limiter and backoff
/// sleep on, the wall clock for timestamps and expiry, and the jitter source.
public struct BatchRunner<C: Clock>: Sendable where C.Duration == Duration {
    let job: JobConfiguration
    let api: any SessionsAPI
    let clock: C
    let flushClock: any Clock<Duration>
    let now: @Sendable () -> Date
    let jitter: @Sendable () -> Double
    let control: RunControl
    let redaction: ErrorRedaction
    let otherFiles: PathCollisions
    let progress: @Sendable (RunProgress) -> Void
    let logger: Logger
    let ledgerOnCallerThread: Bool

    /// A runner for `job` over the given collaborators.
    /// - Parameters:
    ///   - clock: what the limiter, backoff and pauses sleep on.
    ///   - flushClock: what the timer that records finished outcomes at least once a second
    ///     sleeps on (the wall clock unless a test drives time itself).
    ///   - ledgerOnCallerThread: do the ledger's work on the calling thread rather than the
    ///     ledger's own (a deterministic executor, which cannot wait for another thread).
    public init(
        job: JobConfiguration,
        api: any SessionsAPI,
        clock: C,
        flushClock: any Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() },
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
        control: RunControl = RunControl(),
        secrets: [String] = [],
        otherFiles: PathCollisions = PathCollisions(reads: [], writes: []),
        progress: @escaping @Sendable (RunProgress) -> Void = { _ in },
        ledgerOnCallerThread: Bool = false,
        logger: Logger
    ) {
        self.ledgerOnCallerThread = ledgerOnCallerThread
        self.control = control
        self.redaction = ErrorRedaction(secrets: secrets)
        self.otherFiles = otherFiles
        self.progress = progress
        self.job = job
        self.api = api
        self.clock = clock
        self.flushClock = flushClock
        self.now = now
        self.jitter = jitter
        self.logger = logger
    }

    /// Runs the job; returns the report (whose exit code the CLI returns). Throws only for
    /// problems that stop the run before its files are written (job, input, ledger, output).
    public func run() async throws -> RunReport {
        let started = now()
        let startInstant = clock.now
        let paths = try InputStage.expandInputs(job.inputs)
        let access = try await LedgerAccess.open(
            job: job, use: .write, now: started, onCallerThread: ledgerOnCallerThread, logger: logger)
        return try await access.use { ledger in
            try await run(
                ledger: ledger, ledgerFile: access.file, paths: paths, started: started, startInstant: startInstant)
        }
    }

    /// The run, on its opened and locked ledger (whose file, for an SQLite ledger, is
    /// `ledgerFile`).
    private func run(
        ledger: any Ledger, ledgerFile: String?, paths: [String], started: Date, startInstant: C.Instant
    ) async throws -> RunReport {
        let sizes = paths.map { path -> (path: String, size: Int64?) in
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? nil
            return (path, path == "-" ? nil : size)
        }
        let runID = try await ledger.startRun(
            job: job.name, inputs: sizes, simulated: job.api.simulator != nil, now: started)
        let outputPath = job.expand(job.outputPath, runID: runID, now: started)
        let rejectsPath = job.expand(job.rejectsPath, runID: runID, now: started)
        do {
            try PathCollisions(
                reads: paths.map { PathCollisions.File("input", $0) } + (ledgerFile.map(PathCollisions.ledger) ?? [])
                    + otherFiles.reads,
                writes: [PathCollisions.File("output", outputPath), PathCollisions.File("rejects file", rejectsPath)]
                    + otherFiles.writes
            ).check()
        } catch {
            try? await ledger.finishRun(
                runID, exitCode: ExitStatus(for: error).rawValue, counts: RunCounts(), now: now())
            throw error
        }
        var runLogger = logger
        runLogger[metadataKey: "run"] = "\(runID)"

        // Stages 1-3.
        let planned: PlanCounts
        let spool: OutputSpool?
        let bytesTotal = sizes.contains { $0.size == nil } ? nil : sizes.compactMap(\.size).reduce(0, +)
        do {
            // Existing rows are written to the output only under `include: all`.
            spool =
                job.include == .new
                ? nil
                : try OutputSpool(
                    beside: ledgerFile ?? outputPath, lines: OutputLineFormat(job: job, inputPaths: paths))
            let stage = InputStage(job: job, runID: runID, now: started, control: control, logger: runLogger)
            let progress = self.progress
            planned = try await ledger.planRun(runID: runID) { planning in
                try stage.run(paths: paths, planning: planning, spool: spool) { counts, bytesRead in
                    var snapshot = RunProgress(phase: .reading)
                    snapshot.bytesRead = bytesRead
                    snapshot.bytesTotal = bytesTotal
                    snapshot.rowsRead = counts.rows
                    snapshot.existing = counts.existing
                    snapshot.rejected = counts.rejected
                    progress(snapshot)
                }
            }
        } catch {
            try? await ledger.finishRun(
                runID, exitCode: ExitStatus(for: error).rawValue, counts: RunCounts(), now: now())
            throw error
        }
        runLogger.info("inputs read", metadata: ["rows": "\(planned.rows)", "to_send": "\(planned.toSend)"])

        // Stages 4-5.
        let lookupFallback = LookupFallback()
        let attemptLogger = runLogger
        let sender = SessionSender(
            job: job,
            api: api,
            clock: clock,
            jitter: jitter,
            now: now,
            lookupFallback: lookupFallback,
            willSend: { pending, date in
                // After a stop request no new create leaves, even one that had its limiter slot.
                guard control.stopReason == nil else { return false }
                do {
                    try await ledger.markAttempted(pending, at: date)
                    return true
                } catch is CancellationError {
                    // The run is stopping: the create stays pending, unsent, for the next run.
                    return false
                } catch {
                    attemptLogger.error("cannot record an attempt; not sending it: \(error)")
                    return false
                }
            },
            redaction: redaction,
            logger: runLogger
        )
        let sendStart = clock.now
        let (stats, stop) = try await SendStage(
            ledger: ledger, runID: runID, sender: sender, concurrency: job.api.concurrency,
            template: job.template, policy: job.policy, control: control,
            clock: clock, flushClock: flushClock, now: now,
            logger: runLogger
        ).run { stats in
            var snapshot = RunProgress(phase: .sending)
            snapshot.rowsRead = planned.rows
            snapshot.existing = planned.existing
            snapshot.rejected = planned.rejected + stats.failed
            snapshot.toSend = planned.toSend
            snapshot.created = stats.created
            snapshot.sent = stats.rows
            snapshot.sendingSeconds = sendStart.duration(to: clock.now).inSeconds
            progress(snapshot)
        }
        let sendSeconds = sendStart.duration(to: clock.now).inSeconds

        // Stage 6, on the ledger's own thread.
        var counts = try await ledger.reading { try $0.counts(runID: runID) }
        counts.requests = stats.requests
        counts.retries = stats.retries
        counts.rateLimited = stats.rateLimited
        counts.statuses = stats.statuses
        let outputRows: Int
        let rejectedRows: Int
        do {
            let job = self.job
            (outputRows, rejectedRows) = try await ledger.reading { view in
                let files = ResultFiles(
                    ledger: view, scope: .run(runID), inputPaths: try view.inputPaths(runID: runID), spool: spool)
                return (
                    try files.writeOutput(
                        to: outputPath, lines: OutputLineFormat(job: job, inputPaths: files.inputPaths),
                        include: job.include),
                    try files.writeRejects(to: rejectsPath, escapeFormulas: job.escapeFormulas)
                )
            }
        } catch {
            // The run's real end: its files are not written (the next run carries its new
            // sessions over).
            try? await ledger.finishRun(runID, exitCode: ExitStatus(for: error).rawValue, counts: counts, now: now())
            throw error
        }

        var stoppedBecause = stop?.description
        var exitCode = stop.map { ExitStatus(for: $0).rawValue } ?? RunReport.exitCode(for: counts)
        if stop == nil, let reason = control.stopReason {
            exitCode = reason.exitStatus.rawValue
            stoppedBecause =
                "interrupted by \(reason.signalName); \(counts.pending) rows still pending: run the same command "
                + "again to continue"
        }
        var report = RunReport(
            runID: runID,
            job: job.name,
            counts: counts,
            outputPath: outputPath,
            outputRows: outputRows,
            rejectsPath: rejectsPath,
            rejectedRows: rejectedRows,
            durationSeconds: startInstant.duration(to: clock.now).inSeconds,
            sendSeconds: sendSeconds,
            achievedRate: sendSeconds > 0 ? Double(stats.requests) / sendSeconds : 0,
            simulated: job.api.simulator != nil,
            stoppedBecause: stoppedBecause,
            exitCode: exitCode
        )
        try await ledger.finishRun(runID, exitCode: exitCode, counts: counts, now: now())
        if stoppedBecause == nil {
            // A run that read everything and wrote its files applies the job's retention.
            do {
                let pruned = try await ledger.prune(retention: job.retention, now: now())
                if pruned.removedAnything {
                    runLogger.info(
                        "pruned the ledger",
                        metadata: [
                            "runs": "\(pruned.runs)", "history_rows": "\(pruned.runRows)",
                            "applicants_erased": "\(pruned.applicantsErased)",
                        ])
                }
                report.pruned = pruned
            } catch {
                runLogger.warning("could not prune the ledger; the next run or `prune` tries again: \(error)")
            }
        }
        let jobName = job.name
        report.lastSuccessAt = try await ledger.reading { try $0.lastSuccess(job: jobName) }
        report.funnel = try await ledger.funnel()[jobName] ?? Funnel()
        report.otherShards = planned.otherShards
        report.lookupFallback = lookupFallback.fallbackReason
        return report
    }
}
