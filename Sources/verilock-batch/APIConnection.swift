import Foundation
import Logging
import VerilockBatch
import VerilockSimulator

/// The API a command talks to: Verilock's (base URL and key from the job and the environment),
/// or the in-process simulator the job asks for.
struct APIConnection {
    let api: HTTPSessionsAPI
    /// The key sent, for redaction.
    let key: String
    let simulator: RunningSimulator?

    /// Connects for `job`: starts the simulator it asks for, or resolves its base URL and key.
    static func open(for job: JobConfiguration, logger: Logger) async throws -> APIConnection {
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
            key = try APIKey.resolve(job.api, environment: environment) { logger.warning("\($0)") }
        }
        // The in-process simulator is reached directly, whatever the job or the environment say.
        let route = try HTTPRoute.resolve(
            for: baseURL, setting: simulator == nil ? job.api.proxy : .direct, caFile: job.api.caFile,
            environment: environment, carriesKey: true)
        if let proxy = route.proxy {
            logger.notice("reaching the API through a proxy", metadata: ["proxy": "\(proxy)"])
        }
        let api = HTTPSessionsAPI(
            baseURL: baseURL, apiKey: key, connections: job.api.concurrency, timeout: job.api.timeout, route: route)
        return APIConnection(api: api, key: key, simulator: simulator)
    }

    /// Closes the connection pool and stops the simulator.
    func close() async {
        await api.shutdown()
        await simulator?.stop()
    }
}
