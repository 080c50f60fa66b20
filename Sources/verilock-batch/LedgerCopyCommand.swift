import ArgumentParser
import Foundation
import Logging
import VerilockBatch

/// `verilock-batch ledger copy FROM TO`: moves a ledger between backends.
struct LedgerCopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy a ledger into a new, empty one: SQLite to PostgreSQL, or back.",
        discussion: """
            FROM and TO are each a ledger file or a postgresql:// URL (the password from PGPASSWORD, \
            PGPASSFILE or ~/.pgpass). Every run, applicant, session and history row is copied with its ids; \
            a target that holds anything is refused; every table is counted on both sides afterwards. Both \
            ledgers are locked as a run locks them (an SQLite file's lock file; the job `ledger copy` on \
            PostgreSQL): stop the jobs' runs while copying.

            Examples:
              verilock-batch ledger copy state/nightly.sqlite postgresql://batch@db/kyc
              verilock-batch ledger copy postgresql://batch@db/kyc state/restored.sqlite
            """
    )

    @Argument(help: "The ledger to copy: a file, or a postgresql:// URL.")
    var from: String

    @Argument(help: "The new ledger: a file that does not exist yet, or an empty database's URL.")
    var to: String

    func run() async throws {
        do {
            let now = Date()
            let logger = Logger(label: "verilock-batch")
            var source = JobConfiguration()
            source.name = "ledger copy"
            source.ledgerPath = from
            var target = source
            target.ledgerPath = to
            guard LedgerAccess.exists(for: source, now: now) else {
                throw LedgerError.cannotOpen(path: from, reason: "no such file")
            }
            if let file = LedgerAccess.file(of: target, now: now), FileManager.default.fileExists(atPath: file) {
                throw LedgerError.cannotOpen(path: file, reason: "the file exists: copy into a new one")
            }
            let from = try await LedgerAccess.open(job: source, use: .write, now: now, logger: logger)
            let copied = try await from.use { source in
                let to = try await LedgerAccess.open(job: target, use: .write, now: now, logger: logger)
                return try await to.use { target in try await LedgerCopy(from: source, to: target).run() }
            }
            let summary = copied.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            printError("copied \(from.ledger.location) to \(to): \(summary); counts checked")
        } catch {
            printError("error: \(error.localizedDescription)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }
}
