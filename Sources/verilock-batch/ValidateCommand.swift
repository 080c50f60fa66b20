import ArgumentParser
import Logging
import VerilockBatch

/// `verilock-batch validate`: the job and every input row checked; no network, no ledger.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the job file and every input row; no network, no ledger writes.",
        discussion: """
            Prints one line per row that a run would reject, naming the file, line, external_id and reason. \
            Exit 0: every row is valid; 1: some rows would be rejected; 65/66: an input is unreadable or \
            missing; 78: the job is invalid.

            Examples:
              verilock-batch validate jobs/nightly.yaml
              verilock-batch validate --input users.csv.gz --profile-id UUID
            """
    )

    @OptionGroup var options: JobOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "verilock-batch")
        do {
            let job = try JobLoader.load(path: options.job, overrides: options.overrides)
            let preview = try await RunPreview.validate(job: job, logger: logger) { path, row in
                let id = row.externalID.map { " \($0)" } ?? ""
                print("\(path):\(row.line):\(id) \(row.reason.rawValue): \(row.message)")
            }
            printError(
                "job '\(job.name)' is valid; \(preview.rowsRead) rows read, \(preview.rejected) would be rejected")
            if preview.rejected > 0 { throw ExitCode(ExitStatus.someRejected.rawValue) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("error: \(error.localizedDescription)")
            throw ExitCode(ExitStatus(for: error).rawValue)
        }
    }
}
