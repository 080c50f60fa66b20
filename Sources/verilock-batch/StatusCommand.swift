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
            let job = try ledgerOptions.load()
            let path = job.expand(job.ledgerPath, runID: nil, now: Date())
            guard FileManager.default.fileExists(atPath: path) else {
                throw LedgerError.cannotOpen(path: path, reason: "no such file: no run has used this ledger yet")
            }
            let status = try Ledger(path: path).status(now: Date())
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
