import ArgumentParser
import Foundation
import VerilockBatch

/// `verilock-batch export`: the mail-merge file again, from the ledger, with no request.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract:
            "Write the mail-merge file again from the ledger (a run's rows, every session, or a follow-up list), "
            + "sending nothing.",
        discussion: """
            A run's rows that already had a session are counted, not kept, by the ledger: export --run reads \
            that run's input files again, which must be unchanged (same SHA-256). --status lists applicants \
            by what `sync` last heard of their session, with its status, decision and completion time as \
            extra columns: open is the reminder mail-merge (valid links, not completed).

            Examples:
              verilock-batch export jobs/nightly.yaml --run 42 --output again.csv
              verilock-batch export jobs/nightly.yaml --status open --output remind.csv
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions

    @Option(name: .long, help: "The run to export (default: the job's last run).")
    var run: Int64?

    @Flag(name: .long, help: "Export every applicant with a session, whatever run made it.")
    var all = false

    @Option(name: .long, help: "all: every row with a session; new: only those created or reissued by the run.")
    var include: IncludeMode?

    @Option(name: .long, help: "A follow-up list of every applicant whose session is in this state (see sync).")
    var status: SessionSelection.Status?

    @Option(name: .long, help: "With --all or --status: only sessions created or changed since this date (YYYY-MM-DD).")
    var since: String?

    @Option(name: .long, help: "The output file (default: the job's output path).")
    var output: String?

    func validate() throws {
        if [run != nil, all, status != nil].filter({ $0 }).count > 1 {
            throw ValidationError("--run, --all and --status exclude each other")
        }
        if since != nil && !all && status == nil { throw ValidationError("--since goes with --all or --status") }
        if let since, Self.instant(since) == nil {
            throw ValidationError("--since must be a date (YYYY-MM-DD) or an ISO 8601 time, not '\(since)'")
        }
    }

    /// `path` with `tag` before its extension (`out.csv`, `open`: `out.open.csv`).
    static func path(_ path: String, tagged tag: String) -> String {
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension
        let base = ext.isEmpty ? path : String(path.dropLast(ext.count + 1))
        return base + "." + tag + (ext.isEmpty ? "" : "." + ext)
    }

    /// `2026-11-28` (the start of that day, UTC) or an ISO 8601 time.
    static func instant(_ text: String) -> Date? {
        guard text.count == 10 else { return Timestamp.parse(text) }
        // A day that does not exist (30 February) would roll over to another: refused.
        guard let date = Timestamp.parse(text + "T00:00:00Z"), Timestamp.string(date).hasPrefix(text) else {
            return nil
        }
        return date
    }

    func run() async throws {
        do {
            let now = Date()
            let (job, access) = try await ledgerOptions.openLedger(now: now)
            let (path, ledgerFile) = (access.ledger.location, access.file)
            let (all, run, output, jobFile) = (all, run, output, ledgerOptions.job)
            let selection: SessionSelection? =
                all || status != nil
                ? SessionSelection(status: status, since: since.flatMap(Self.instant), now: now) : nil
            let mode = include ?? job.include
            // One snapshot of the ledger, read on its own thread.
            let (rows, target, runID) = try await access.use { ledger in
                try await ledger.reading { view in
                    let scope: ResultFiles.Scope
                    var runID: Int64?
                    if let selection {
                        scope = .sessions(selection)
                    } else {
                        guard let id = try run ?? view.lastRunID(job: jobFile == nil ? nil : job.name) else {
                            throw LedgerError.database(path: path, reason: "no run recorded: nothing to export")
                        }
                        scope = .run(id)
                        runID = id
                    }
                    let jobOutput = job.expand(job.outputPath, runID: runID, now: now)
                    // A follow-up list never replaces the mail-merge file: out.csv gives out.open.csv.
                    let target =
                        output ?? selection?.status.map { Self.path(jobOutput, tagged: $0.rawValue) } ?? jobOutput
                    // A run's rows that already had a session are not kept row by row: its inputs
                    // are read again.
                    let inputPaths = try runID.map { try view.inputPaths(runID: $0) } ?? []
                    // Never over the files of a run: the exported run's and the last run's inputs, the
                    // job's rejects file, and (for a list other than the run's own output) the
                    // mail-merge file.
                    let lastInputs = try view.lastRunID(job: nil).map { try view.inputPaths(runID: $0) } ?? []
                    let runFiles =
                        (inputPaths + lastInputs).filter { $0 != "-" }.map { PathCollisions.File("input", $0) }
                        + [PathCollisions.File("rejects file", job.expand(job.rejectsPath, runID: runID, now: now))]
                        + (selection == nil ? [] : [PathCollisions.File("mail-merge file", jobOutput)])
                    try PathCollisions(
                        reads: PathCollisions.reads(of: job, jobFile: jobFile, ledgerPath: ledgerFile) + runFiles,
                        writes: [PathCollisions.File("output", target)]
                    ).check()
                    var lines = OutputLineFormat(job: job, inputPaths: inputPaths)
                    if selection?.status != nil {
                        // A follow-up list says what became of each session.
                        let extra = [OutputField.sessionStatus, .decision, .completedAt].map(OutputColumn.field)
                        lines = OutputLineFormat(
                            format: lines.format, columns: lines.columns + extra.filter { !lines.columns.contains($0) },
                            escapeFormulas: lines.escapeFormulas, inputPaths: inputPaths)
                    }
                    var spool: OutputSpool?
                    if let runID, mode == .all {
                        let existing = try OutputSpool(beside: ledgerFile ?? target, lines: lines)
                        try RunReplay(job: job, ledger: view, runID: runID).existingRows(into: existing)
                        spool = existing
                    }
                    let files = ResultFiles(ledger: view, scope: scope, inputPaths: inputPaths, spool: spool)
                    return (try files.writeOutput(to: target, lines: lines, include: mode), target, runID)
                }
            }
            let what =
                runID.map { " from run \($0)" } ?? status.map { " (\($0.rawValue) sessions)" } ?? " (every session)"
            printError("exported \(rows) rows to \(target)" + what)
        } catch {
            printError("error: \(error.localizedDescription)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }
}
