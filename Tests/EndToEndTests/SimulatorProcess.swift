import Foundation
import Testing
import VerilockSimulator

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `verilock-batch simulate` as a child process on port 0: the binary tests talk to a server that
/// the test process's own load cannot starve. Its counts come from the admin route.
final class SimulatorProcess: Sendable {
    let baseURL: String
    private let process: BinaryRunner

    /// Starts the simulator with `arguments` (after `simulate --port 0`) and waits for its URL.
    init(_ arguments: [String] = []) async throws {
        let runner = try BinaryRunner(["simulate", "--port", "0"] + arguments, timeout: .seconds(600))
        process = runner
        var url: String?
        let printed = try await eventually {
            let text = try runner.stdoutSoFar
            url = text.contains("\n") ? text.split(separator: "\n").first.map(String.init) : nil
            return url != nil || runner.hasExited
        }
        #expect(printed, "the simulator neither printed its URL nor exited")
        let stderr = try runner.stderrSoFar
        baseURL = try #require(url, "the simulator did not print its URL: \(stderr)")
    }

    /// The admin route's counts.
    func stats() async throws -> SimulatorStats {
        let admin = try #require(URL(string: baseURL.replacingOccurrences(of: "/api/v1", with: "/_admin/stats")))
        let (data, _) = try await URLSession.shared.data(from: admin)
        return try JSONDecoder().decode(SimulatorStats.self, from: data)
    }

    /// Stops the simulator and waits for it to exit.
    func stop() async {
        process.send(SIGTERM)
        _ = await process.waitForExit()
    }
}
