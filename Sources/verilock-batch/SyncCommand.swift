import ArgumentParser
import Foundation
import Logging
import VerilockBatch

/// `verilock-batch sync`: what became of the sessions the ledger holds.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Refresh the status and decision of the ledger's sessions that are not final yet, from the API.",
        discussion: """
            Pages through GET /sessions from the day the oldest open session was created, then fetches GET \
            /sessions/{id} for open sessions no page listed, within the job's rate budget. Safe to interrupt \
            and run again. Exit 0 when done; 69 when the API did not answer; 77 when the key is refused; 75 \
            while a run holds the ledger.

            Examples:
              verilock-batch sync jobs/nightly.yaml
              verilock-batch sync jobs/nightly.yaml && verilock-batch export \
                  jobs/nightly.yaml --status open --output remind.csv
            """
    )

    @OptionGroup var options: JobOptions

    @Flag(name: .long, help: "Print the report as JSON on standard output.")
    var json = false

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "verilock-batch")
        let code: Int32
        do {
            let job = try JobLoader.load(path: options.job, overrides: options.overrides, forRun: false)
            let connection = try await APIConnection.open(for: job, logger: logger)
            let control = RunControl()
            let signals = await SignalHandling(control: control)
            defer { signals.cancel() }
            let result: Result<SyncReport, any Error>
            do {
                result = .success(
                    try await SyncRunner(
                        job: job, api: connection.api, clock: ContinuousClock(), control: control,
                        secrets: [connection.key], logger: logger
                    ).run())
            } catch {
                result = .failure(error)
            }
            await connection.close()
            let report = try result.get()
            printError(report.text)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            }
            code = report.exitCode
        } catch {
            printError("error: \(error.localizedDescription)")
            code = ExitStatus(for: error).rawValue
        }
        if code != 0 { throw ExitCode(code) }
    }
}
