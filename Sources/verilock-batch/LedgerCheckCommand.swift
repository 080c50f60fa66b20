import ArgumentParser
import Foundation
import VerilockBatch

/// `verilock-batch ledger check`: SQLite's integrity check, the schema version and the counts;
/// exit 73 when the ledger is not sound.
struct LedgerCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the ledger's integrity and schema version and count what it holds (exit 73 if not sound).",
        discussion: """
            Runs SQLite's integrity and foreign-key checks (or reads the PostgreSQL ledger's schema \
            version), counts the applicants by state and recounts the funnel the runs report. Exit 0: sound; \
            73: not sound, with what was found.

            Examples:
              verilock-batch ledger check jobs/nightly.yaml
              verilock-batch ledger check --ledger state/nightly.sqlite
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() async throws {
        do {
            let (_, access) = try await ledgerOptions.openLedger(now: Date())
            let check = try await access.use { ledger in try await ledger.check() }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                print(String(decoding: try encoder.encode(check), as: UTF8.self))
            } else {
                print(check.text)
            }
            if !check.isSound { throw ExitCode(ExitStatus.cannotWrite.rawValue) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("error: \(error.localizedDescription)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }
}
