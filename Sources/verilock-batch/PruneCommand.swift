import ArgumentParser
import Foundation
import VerilockBatch

/// `verilock-batch prune`: applies the job's retention now (a run applies it at its end).
struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete old run history and erase ended applicants' personal data, as the job's retention says.",
        discussion: """
            retention.runs (default 90d) and retention.personal_data (default forever) set the periods; \
            every successful run prunes at its end too. --dry-run counts what would go. Exit 75 while a run \
            holds the ledger.

            Examples:
              verilock-batch prune jobs/nightly.yaml --dry-run
              verilock-batch prune jobs/nightly.yaml
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions

    @Flag(name: .long, help: "Say what would be removed, and remove nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() async throws {
        do {
            let now = Date()
            let (job, access) = try await ledgerOptions.openLedger(now: now, use: dryRun ? .read : .write)
            let report = try await access.use { ledger in
                try await ledger.prune(retention: job.retention, now: now, dryRun: dryRun)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(
                    report.text
                        + "\nretention: runs \(RetentionPolicy.text(job.retention.runs)), personal data "
                        + RetentionPolicy.text(job.retention.personalData))
            }
        } catch {
            printError("error: \(error.localizedDescription)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }
}
