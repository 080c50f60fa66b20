import ArgumentParser
import Foundation
import VerilockBatch

/// `verilock-batch status`: what the ledger holds.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract:
            "Show what the ledger holds: applicants by state, its size and oldest personal data, what the next "
            + "prune removes, recent runs, pending rows, links expiring soon.",
        discussion: """
            Reads one consistent snapshot of the ledger, so it works while a run is going on; sends nothing. \
            --json prints the same as one JSON object, for monitoring.

            Examples:
              verilock-batch status jobs/nightly.yaml
              verilock-batch status --ledger state/nightly.sqlite --json
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() async throws {
        do {
            let now = Date()
            let (job, access) = try await ledgerOptions.openLedger(now: now)
            let withJob = ledgerOptions.job != nil
            let status = try await access.use { ledger in
                var status = try await ledger.status(now: now)
                if withJob {
                    status.nextPrune = try await ledger.prune(retention: job.retention, now: now, dryRun: true)
                }
                return status
            }
            if json {
                print(String(decoding: try status.jsonBytes(), as: UTF8.self))
            } else {
                print(status.text)
            }
        } catch {
            printError("error: \(error.localizedDescription)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }
}
