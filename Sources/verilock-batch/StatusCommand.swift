import ArgumentParser
import Foundation
import VerilockBatch

/// `verilock-batch status`: what the ledger holds.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what the ledger holds: applicants by state, recent runs, pending rows, links expiring soon."
    )

    @OptionGroup var ledgerOptions: LedgerOptions

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() async throws {
        do {
            let (_, ledger) = try ledgerOptions.openLedger(now: Date())
            let status = try ledger.status(now: Date())
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
