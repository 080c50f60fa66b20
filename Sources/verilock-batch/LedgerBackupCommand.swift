import ArgumentParser
import Foundation
import VerilockBatch

/// `verilock-batch ledger backup [JOB] FILE`: a consistent copy of the ledger, 0600.
struct LedgerBackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the ledger consistently (runs may go on meanwhile) to a new file, mode 0600.",
        discussion: """
            Uses SQLite's online backup, so a run may go on meanwhile; the copy is a ledger like any other. \
            A PostgreSQL ledger is backed up with pg_dump instead.

            Examples:
              verilock-batch ledger backup jobs/nightly.yaml backups/nightly.sqlite
              verilock-batch ledger backup --ledger state/a.sqlite backups/a.sqlite
            """
    )

    @Argument(help: "The job file (unless --ledger is given), then the backup file, which must not exist.")
    var paths: [String] = []

    @Option(name: .long, help: "The ledger file, instead of a job's.")
    var ledger: String?

    func validate() throws {
        let expected = ledger == nil ? 2 : 1
        guard paths.count == expected else {
            throw ValidationError(
                ledger == nil ? "name the job file and the backup file" : "name the backup file (one path)")
        }
    }

    func run() async throws {
        do {
            let (_, access) = try await LedgerOptions.openLedger(
                job: ledger == nil ? paths[0] : nil, ledger: ledger, now: Date())
            let target = paths[paths.count - 1]
            let location = try await access.use { source in
                try PathCollisions(
                    reads: access.file.map(PathCollisions.ledger) ?? [], writes: [PathCollisions.File("backup", target)]
                ).check()
                try await source.backup(to: target)
                return source.location
            }
            printError("backed up \(location) to \(target)")
        } catch {
            printError("error: \(error.localizedDescription)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }
}
