import Foundation
import Logging
import Testing
import VerilockBatch
import VerilockSimulator

/// The runner with the real HTTP client against the simulator live on port 0.
@Suite("Runner and HTTP client against the live simulator")
struct LiveClientTests {
    static let profile = "7f3c2a10-5d4e-4b8a-9c61-2e0f8d9b3a47"

    func job(folder: String, rows: Int, rate: String) throws -> JobConfiguration {
        let text =
            "external_id,applicant_email\n" + (1...rows).map { "l-\($0),l\($0)@example.com" }.joined(separator: "\n")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: folder + "/in.csv", contents: Data(text.utf8))
        var job = JobConfiguration()
        job.name = "live"
        job.inputs = [folder + "/in.csv"]
        job.template = SessionTemplate(profileID: Self.profile, expiresIn: 3600)
        job.ledgerPath = folder + "/ledger.sqlite"
        job.outputPath = folder + "/out.csv"
        job.rejectsPath = folder + "/rejects.csv"
        job.api.concurrency = 8
        job.api.rateLimit = try #require(RateLimit(parsing: rate))
        return job
    }

    @Test("a configured rate above the server's: 429s pause everyone, every row ends with one session")
    func rateLimitedServer() async throws {
        let simulator = try await RunningSimulator.start(
            configuration: SimulatorConfiguration(profiles: [Self.profile], rateLimitPerMinute: 1200, windowSeconds: 1))
        let folder = NSTemporaryDirectory() + "verilock-live-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let job = try job(folder: folder, rows: 60, rate: "100/s")
        let api = HTTPSessionsAPI(
            baseURL: try APISettings.validateBaseURL(simulator.baseURL), apiKey: SimulatorConfiguration.defaultAPIKey,
            connections: 8, timeout: .seconds(10), route: .direct)
        let result = await Result(catching: {
            try await BatchRunner(job: job, api: api, clock: ContinuousClock(), logger: Logger(label: "test")).run()
        })
        await api.shutdown()
        let report = try result.get()
        let stats = await simulator.state.currentStats()
        await simulator.stop()
        #expect(report.exitCode == 0)
        #expect(report.counts.created == 60)
        #expect(stats.sessionsCreated == 60)
        #expect(stats.duplicates.isEmpty)
        #expect(report.counts.rateLimited == stats.rateLimited)
        // The server reports 1200/min: the limiter tightens to it, so 429s stay few.
        #expect(stats.rateLimited < 30)
    }
}

extension LiveClientTests {
    @Test("sessions expired on the simulator's clock are reissued by the next run, exactly those")
    func reissueExpired() async throws {
        let simulator = try await RunningSimulator.start(
            configuration: SimulatorConfiguration(profiles: [Self.profile], rateLimitPerMinute: 60_000))
        let folder = NSTemporaryDirectory() + "verilock-expiry-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var job = try job(folder: folder, rows: 10, rate: "100/s")
        let text =
            "external_id,applicant_email,expires_in\n"
            + (1...10).map { "e-\($0),e\($0)@example.com,\($0 <= 4 ? 300 : 86400)" }.joined(separator: "\n")
        _ = FileManager.default.createFile(atPath: folder + "/in.csv", contents: Data(text.utf8))
        job.inputs = [folder + "/in.csv"]
        let api = HTTPSessionsAPI(
            baseURL: try APISettings.validateBaseURL(simulator.baseURL), apiKey: SimulatorConfiguration.defaultAPIKey,
            connections: 8, timeout: .seconds(10), route: .direct)
        let logger = Logger(label: "test")
        let result = await Result(catching: {
            let first = try await BatchRunner(job: job, api: api, clock: ContinuousClock(), logger: logger).run()
            // Ten minutes pass, for the simulator and for the tool.
            await simulator.state.advanceClock(by: 600)
            let later: @Sendable () -> Date = { Date().addingTimeInterval(600) }
            let second = try await BatchRunner(job: job, api: api, clock: ContinuousClock(), now: later, logger: logger)
                .run()
            return (first, second)
        })
        await api.shutdown()
        let (first, second) = try result.get()
        let stats = await simulator.state.currentStats()
        await simulator.stop()
        #expect(first.counts.created == 10)
        #expect(second.counts.reissued == 4)
        #expect(second.counts.existing == 6)
        #expect(stats.sessionsCreated == 14)
        let rows = (try String(contentsOfFile: folder + "/out.csv", encoding: .utf8)).split(separator: "\n").dropFirst()
        let reissued = rows.filter { $0.hasSuffix(",reissued") }.map { String($0.prefix { $0 != "," }) }
        #expect(reissued == ["e-1", "e-2", "e-3", "e-4"])
        // The replaced sessions stay in the ledger's history.
        let status = try await SQLiteLedger(path: folder + "/ledger.sqlite").status(now: Date())
        #expect(status.sessions == 14)
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
