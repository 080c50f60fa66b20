import ArgumentParser
import Foundation
import VerilockBatch

/// `verilock-batch export`: the mail-merge file again, from the ledger, with no request.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the mail-merge file again from the ledger (a run's rows, or every session), sending nothing.",
        discussion: """
            A run's rows that already had a session are counted, not kept, by the ledger: export --run reads \
            that run's input files again, which must be unchanged (same SHA-256).
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions

    @Option(name: .long, help: "The run to export (default: the job's last run).")
    var run: Int64?

    @Flag(name: .long, help: "Export every applicant with a session, whatever run made it.")
    var all = false

    @Option(name: .long, help: "all: every row with a session; new: only those created or reissued by the run.")
    var include: IncludeMode?

    @Option(name: .long, help: "The output file (default: the job's output path).")
    var output: String?

    func validate() throws {
        if run != nil && all { throw ValidationError("--run and --all exclude each other") }
    }

    func run() async throws {
        do {
            let now = Date()
            let (job, ledger) = try await ledgerOptions.openLedger(now: now)
            let path = ledger.location
            let (all, run, output, jobFile) = (all, run, output, ledgerOptions.job)
            let mode = include ?? job.include
            // One snapshot of the ledger, read on its own thread.
            let (rows, target, runID) = try await ledger.reading { view in
                let scope: ResultFiles.Scope
                var runID: Int64?
                if all {
                    scope = .allSessions
                } else {
                    guard let id = try run ?? view.lastRunID(job: jobFile == nil ? nil : job.name) else {
                        throw LedgerError.database(path: path, reason: "no run recorded: nothing to export")
                    }
                    scope = .run(id)
                    runID = id
                }
                let target = output ?? job.expand(job.outputPath, runID: runID, now: now)
                try PathCollisions(
                    reads: PathCollisions.reads(of: job, jobFile: jobFile, ledgerPath: path),
                    writes: [PathCollisions.File("output", target)]
                ).check()
                // A run's rows that already had a session are not kept row by row: its inputs
                // are read again.
                let inputPaths = try runID.map { try view.inputPaths(runID: $0) } ?? []
                let lines = OutputLineFormat(job: job, inputPaths: inputPaths)
                var spool: OutputSpool?
                if let runID, mode == .all {
                    let existing = try OutputSpool(besideLedger: path, lines: lines)
                    try RunReplay(job: job, ledger: view, runID: runID).existingRows(into: existing)
                    spool = existing
                }
                let files = ResultFiles(ledger: view, scope: scope, inputPaths: inputPaths, spool: spool)
                return (try files.writeOutput(to: target, lines: lines, include: mode), target, runID)
            }
            printError("exported \(rows) rows to \(target)" + (runID.map { " from run \($0)" } ?? " (every session)"))
        } catch {
            printError("error: \(error.localizedDescription)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }
}
