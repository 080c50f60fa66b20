import ArgumentParser
import Foundation
import Logging
import VerilockBatch

/// The `verilock-batch` root command.
@main
struct VerilockBatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verilock-batch",
        abstract: "Provision Verilock identity-verification sessions in bulk.",
        discussion: """
            Reads applicant files (CSV or NDJSON, plain or gzip), skips everyone who already has a session \
            in the ledger, creates the rest through Verilock's POST /sessions, and writes a mail-merge file \
            that maps each applicant to their session_url. A run stopped for any reason continues exactly \
            where it stopped, and never creates a second session for an applicant.

            The API key comes only from VERILOCK_API_KEY (or the variable or key file the job names), never \
            from a flag or a job file. 'verilock-batch help <command>' shows a command's options.

            Examples:
              swift run verilock-batch run jobs/demo.yaml
              verilock-batch validate jobs/nightly.yaml
              verilock-batch status jobs/nightly.yaml
            """,
        version: VerilockBatchVersion.current,
        subcommands: [
            RunCommand.self, ValidateCommand.self, StatusCommand.self, ExportCommand.self, PruneCommand.self,
            SyncCommand.self, LedgerCommand.self, SimulateCommand.self,
        ]
    )
}

/// Logging flags shared by the subcommands.
struct LoggingOptions: ParsableArguments {
    @Flag(name: .long, help: "Log debug detail (never keys, tokens, e-mails or names).")
    var verbose = false

    @Option(name: .customLong("log-format"), help: "text or json (one object per line, for log shippers).")
    var logFormat = "text"

    func validate() throws {
        guard ["text", "json"].contains(logFormat) else {
            throw ValidationError("--log-format must be text or json, not '\(logFormat)'")
        }
    }

    /// Sends logs to stderr: notice by default, debug with --verbose.
    func bootstrap() {
        let level: Logger.Level = verbose ? .debug : .notice
        let json = logFormat == "json"
        LoggingSystem.bootstrap { label in
            if json { return JSONLogHandler(label: label, logLevel: level) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// Prints `message` on stderr.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
