import Foundation
import Testing
import VerilockSimulator

/// Exactly once with default settings (`unknown_outcome: auto`), whatever the server honours:
/// the built binary against a simulator process that ignores Idempotency-Key or lacks the
/// lookup endpoint, killed mid-send, fed a different or edited file.
extension ExactlyOnceTests {
    /// The rows of a CSV file the run wrote, by column name; a missing file throws.
    static func csv(_ path: String) throws -> [[String: String]] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false).map(String.init) else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path])
        }
        return lines.dropFirst().map { line in
            Dictionary(
                uniqueKeysWithValues: zip(
                    header, line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)))
        }
    }

    /// Kills a run once the simulator has answered `requests` more requests.
    static func kill(_ scenario: Scenario, on simulator: SimulatorProcess, after requests: Int) async throws -> Int32 {
        let target = try await simulator.stats().requests + requests
        let run = try scenario.start(simulator)
        let reached = try await eventually(tries: 15_000, pause: .milliseconds(2)) {
            try await simulator.stats().requests >= target || run.hasExited
        }
        #expect(reached, "the run neither reached \(target) requests nor exited")
        run.send(SIGKILL)
        return try await run.wait().exitCode
    }

    @Test(
        "default settings, 8% resets after commit and 5% 5xx, on a server that ignores keys or lacks the lookup: 0 duplicates",
        arguments: [(keys: false, lookup: true), (keys: true, lookup: false)])
    func defaultSettlement(server: (keys: Bool, lookup: Bool)) async throws {
        let simulator = try await Self.simulator(
            faults: FaultInjection(failRate: 0.05, resetAfterCommitRate: 0.08, seed: 23), idempotency: server.keys,
            lookupEndpoint: server.lookup)
        let scenario = try Scenario(rows: 300, settlement: nil, timeout: "1s")
        defer { scenario.remove() }
        let result = try await scenario.run(simulator)
        let stats = try await simulator.stats()
        await simulator.stop()
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        #expect(try scenario.outputIDs == scenario.expectedIDs)
        #expect(stats.resetsAfterCommit > 10)
        #expect(stats.failuresInjected > 5)
        #expect(stats.duplicates.isEmpty, "duplicates: \(stats.duplicates)")
        #expect(stats.sessionsCreated == 300)
        // Without the lookup endpoint the run says once that it settles by key only.
        #expect(result.stderr.contains("settlement  by Idempotency-Key only") == !server.lookup, "\(result.stderr)")
        print(
            "default settlement, keys \(server.keys ? "honoured" : "ignored"), lookup \(server.lookup ? "on" : "missing"): "
                + "rows 300, 5xx \(stats.failuresInjected), resets after commit \(stats.resetsAfterCommit), "
                + "lookups \(stats.lookups), replays \(stats.idempotentReplays), sessions \(stats.sessionsCreated), "
                + "duplicates \(stats.duplicates.count)")
    }

    @Test("a run killed mid-send, then a run of a different file: every session made is in its output; 0 duplicates")
    func killedThenOtherFile() async throws {
        let simulator = try await Self.simulator(
            faults: FaultInjection(resetAfterCommitRate: 0.05, seed: 5), latency: 30)
        let scenario = try Scenario(rows: 300, settlement: nil, timeout: "1s", concurrency: 4)
        defer { scenario.remove() }
        let killed = try await Self.kill(scenario, on: simulator, after: 120)
        #expect(killed == SIGKILL)
        let madeBefore = try await simulator.stats().sessionsCreated
        #expect(madeBefore > 0 && madeBefore < 300, "sessions before the second run: \(madeBefore)")
        // Tonight's file holds other people entirely.
        let other =
            "external_id,applicant_email\n" + (1...20).map { "y-\($0),y\($0)@example.com" }.joined(separator: "\n")
        _ = FileManager.default.createFile(atPath: scenario.folder + "/in.csv", contents: Data((other + "\n").utf8))
        let result = try await scenario.run(simulator)
        let stats = try await simulator.stats()
        await simulator.stop()
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        let output = try Self.csv(scenario.folder + "/out/output.csv")
        let rejects = try Self.csv(scenario.folder + "/out/rejects.csv")
        let written = (output + rejects).compactMap { $0["external_id"] }
        #expect(Set(written).count == written.count, "a row is written twice")
        #expect(stats.duplicates.isEmpty, "duplicates: \(stats.duplicates)")
        // Every session the server made (one per external_id) is in this run's files.
        #expect(written.count == stats.sessionsCreated, "written \(written.count), sessions \(stats.sessionsCreated)")
        #expect(output.filter { $0["external_id"]?.hasPrefix("x-") == true }.count == stats.sessionsCreated - 20)
        #expect(result.stderr.contains("carried over"), "\(result.stderr)")
        print(
            "killed, then another file: sessions before \(madeBefore), after \(stats.sessionsCreated), "
                + "carried over \(output.count - 20), duplicates \(stats.duplicates.count)")
    }

    @Test(
        "killed with lost answers, every e-mail then changed, two more runs (the last retry_failed always): 0 duplicates"
    )
    func killedThenEdited() async throws {
        let simulator = try await Self.simulator(
            faults: FaultInjection(resetAfterCommitRate: 0.15, seed: 9), latency: 30, idempotency: false)
        let scenario = try Scenario(rows: 300, settlement: nil, timeout: "1s", concurrency: 4)
        defer { scenario.remove() }
        let killed = try await Self.kill(scenario, on: simulator, after: 150)
        #expect(killed == SIGKILL)
        let edited =
            "external_id,applicant_email\n"
            + (1...300).map { "x-\($0),changed.x\($0)@example.com" }.joined(separator: "\n") + "\n"
        _ = FileManager.default.createFile(atPath: scenario.folder + "/in.csv", contents: Data(edited.utf8))
        let second = try await scenario.run(simulator)
        #expect([0, 1].contains(second.exitCode), "stderr: \(second.stderr)")
        let jobPath = scenario.folder + "/job.yaml"
        let job = try String(contentsOfFile: jobPath, encoding: .utf8)
        #expect(job.contains("retry_failed: changed"))
        try job.replacingOccurrences(of: "retry_failed: changed", with: "retry_failed: always")
            .write(toFile: jobPath, atomically: true, encoding: .utf8)
        let third = try await scenario.run(simulator)
        let stats = try await simulator.stats()
        await simulator.stop()
        #expect(third.exitCode == 0, "stderr: \(third.stderr)")
        #expect(try scenario.outputIDs == scenario.expectedIDs)
        #expect(stats.resetsAfterCommit > 5)
        #expect(stats.duplicates.isEmpty, "duplicates: \(stats.duplicates)")
        #expect(stats.sessionsCreated == 300)
        print(
            "killed, edited, two more runs: resets after commit \(stats.resetsAfterCommit), lookups \(stats.lookups), "
                + "sessions \(stats.sessionsCreated), duplicates \(stats.duplicates.count)")
    }
}
