import ArgumentParser
import Foundation
import Logging
import VerilockBatch
import VerilockSimulator

/// `verilock-batch run`: the main job.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Read the inputs, create the missing sessions, write the mail-merge and rejects files."
    )

    @OptionGroup var options: JobOptions

    @Option(name: .long, help: "Write the run report (JSON) to this file.")
    var report: String?

    @Flag(name: .customLong("dry-run"), help: "Read and plan everything, send nothing, write nothing but the report.")
    var dryRun = false

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "verilock-batch")
        let code: Int32
        do {
            let job = try JobLoader.load(path: options.job, overrides: options.overrides)
            if dryRun {
                let preview = try RunPreview.dryRun(job: job, logger: logger)
                printError(
                    "verilock-batch dry run of job '\(job.name)': nothing was sent or written\n" + preview.summary)
                if let report { try preview.write(to: report) }
                if preview.rejected > 0 { throw ExitCode(ExitStatus.someRejected.rawValue) }
                return
            }
            let result = try await Self.execute(job, logger: logger)
            printError(result.summary)
            if let report {
                try result.write(to: report)
            }
            code = result.exitCode
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("error: \(error.localizedDescription)")
            code = ExitStatus(for: error).rawValue
        }
        if code != 0 { throw ExitCode(code) }
    }

    /// Connects to the API (or starts the in-process simulator the job asks for) and runs the job.
    static func execute(_ job: JobConfiguration, logger: Logger) async throws -> RunReport {
        let environment = ProcessInfo.processInfo.environment
        var simulator: RunningSimulator?
        let baseURL: URL
        let key: String
        if let settings = job.api.simulator {
            if environment[job.api.keyEnvironmentVariable]?.hasPrefix("qi_live_") == true {
                throw APIError.liveKeyWithSimulator
            }
            let running = try await RunningSimulator.start(
                configuration: settings.configuration,
                logger: Logger(label: "verilock-simulator", factory: { _ in SwiftLogNoOpLogHandler() })
            )
            simulator = running
            baseURL = try APISettings.validateBaseURL(running.baseURL)
            key = SimulatorConfiguration.defaultAPIKey
            logger.notice("running against the built-in simulator", metadata: ["base_url": "\(running.baseURL)"])
        } else {
            baseURL = try APISettings.validateBaseURL(job.api.baseURL ?? APISettings.defaultBaseURL)
            key = try APIKey.resolve(job.api, environment: environment)
        }
        let api = HTTPSessionsAPI(
            baseURL: baseURL, apiKey: key, connections: job.api.concurrency, timeout: job.api.timeout
        )
        let control = RunControl()
        let signals = SignalHandling(control: control)
        defer { signals.cancel() }
        let result: Result<RunReport, any Error>
        do {
            let runner = BatchRunner(job: job, api: api, clock: ContinuousClock(), control: control, logger: logger)
            result = .success(try await runner.run())
        } catch {
            result = .failure(error)
        }
        await api.shutdown()
        await simulator?.stop()
        return try result.get()
    }
}
