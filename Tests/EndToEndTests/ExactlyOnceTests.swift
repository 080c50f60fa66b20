import Foundation
import Testing
import VerilockSimulator

/// No lost row and no second session, whatever fails: the built binary against a faulty
/// simulator, killed, interrupted, or run twice at once.
@Suite("Exactly once under failure", .serialized)
struct ExactlyOnceTests {
    static let profile = "7f3c2a10-5d4e-4b8a-9c61-2e0f8d9b3a47"
    static let key = SimulatorConfiguration.defaultAPIKey

    /// A job over `rows` applicants in a fresh folder.
    struct Scenario {
        let folder = NSTemporaryDirectory() + "verilock-once-" + UUID().uuidString
        let rows: Int
        /// The job's `ledger`: a file in the folder, or a fresh PostgreSQL database.
        let ledger: String

        /// - Parameter settlement: `unknown_outcome`; nil leaves it to the default.
        init(
            rows: Int, settlement: String? = "idempotency-key", timeout: String = "5s", concurrency: Int = 8,
            backend: LedgerKind = .sqlite
        ) throws {
            self.rows = rows
            ledger = try backend.freshLedger()
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let text =
                "external_id,applicant_email\n"
                + (1...rows).map { "x-\($0),x\($0)@example.com" }.joined(separator: "\n") + "\n"
            _ = FileManager.default.createFile(atPath: folder + "/in.csv", contents: Data(text.utf8))
            let job = """
                name: once
                input:
                  files: [in.csv]
                session:
                  profile_id: \(ExactlyOnceTests.profile)
                  expires_in: 86400
                api:
                  rate_limit: 200/s
                  concurrency: \(concurrency)
                  timeout: \(timeout)
                  max_attempts: 10
                \(settlement.map { "  unknown_outcome: \($0)" } ?? "")
                policy:
                  retry_failed: changed
                ledger: \(ledger)
                output:
                  file: out/output.csv
                rejects: out/rejects.csv
                """
            _ = FileManager.default.createFile(atPath: folder + "/job.yaml", contents: Data(job.utf8))
        }

        func arguments(_ simulator: SimulatorProcess) -> [String] {
            ["run", folder + "/job.yaml", "--base-url", simulator.baseURL]
        }

        func start(_ simulator: SimulatorProcess) throws -> BinaryRunner {
            try BinaryRunner(arguments(simulator), environment: ["VERILOCK_API_KEY": ExactlyOnceTests.key])
        }

        func run(_ simulator: SimulatorProcess) async throws -> BinaryRunner.Result {
            try await start(simulator).wait()
        }

        /// The external_ids in the output file; a missing file throws.
        var outputIDs: [String] {
            get throws { try ids(in: "out/output.csv") }
        }

        /// The external_ids in the output file `name` of the folder; a missing file throws.
        func ids(in name: String) throws -> [String] {
            let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
            return text.split(separator: "\n").dropFirst().map { String($0.prefix { $0 != "," }) }
        }

        var expectedIDs: [String] { (1...rows).map { "x-\($0)" } }

        /// The ledger as `--ledger` names it from any folder.
        var ledgerArgument: String { ledger.hasPrefix("postgresql://") ? ledger : folder + "/" + ledger }

        func remove() { try? FileManager.default.removeItem(atPath: folder) }
    }

    static func simulator(
        faults: FaultInjection = FaultInjection(), latency: Int = 0, idempotency: Bool = true,
        lookupEndpoint: Bool = true
    ) async throws -> SimulatorProcess {
        var arguments = [
            "--profiles", profile, "--rate-limit", "60000/min", "--latency", String(latency),
            "--fail-rate", String(faults.failRate), "--reset-after-commit", String(faults.resetAfterCommitRate),
            "--reset-before-commit", String(faults.resetBeforeCommitRate), "--slow-rate", String(faults.slowRate),
            "--slow-ms", String(faults.slowMilliseconds), "--seed", String(faults.seed),
        ]
        if !idempotency { arguments.append("--no-idempotency") }
        if !lookupEndpoint { arguments.append("--no-lookup-endpoint") }
        return try await SimulatorProcess(arguments)
    }

    @Test(
        "faults (10% 5xx, 3% resets after commit, slow answers): every row gets exactly one session",
        arguments: ["idempotency-key", "lookup"])
    func faults(settlement: String) async throws {
        let simulator = try await Self.simulator(
            faults: FaultInjection(
                failRate: 0.10, resetAfterCommitRate: 0.03, slowRate: 0.02, slowMilliseconds: 3000, seed: 7))
        let scenario = try Scenario(rows: 300, settlement: settlement, timeout: "2s")
        defer { scenario.remove() }
        let result = try await scenario.run(simulator)
        let stats = try await simulator.stats()
        await simulator.stop()
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        #expect(try scenario.outputIDs == scenario.expectedIDs)
        #expect(stats.sessionsCreated == 300)
        #expect(stats.duplicates.isEmpty)
        #expect(stats.failuresInjected > 10)
        #expect(stats.resetsAfterCommit > 3)
        #expect(stats.slowAnswers > 0)
        let lost = try scenario.expectedIDs.count - scenario.outputIDs.count
        print(
            "faults/\(settlement): rows 300, 5xx \(stats.failuresInjected), resets after commit "
                + "\(stats.resetsAfterCommit), slow \(stats.slowAnswers), replays \(stats.idempotentReplays), "
                + "lookups \(stats.lookups), sessions \(stats.sessionsCreated), duplicates \(stats.duplicates.count), "
                + "lost \(lost)")
    }

    @Test("lookup settles lost answers even when the server ignores Idempotency-Key")
    func lookupWithoutServerIdempotency() async throws {
        let simulator = try await Self.simulator(
            faults: FaultInjection(failRate: 0.05, resetAfterCommitRate: 0.05, seed: 11), idempotency: false)
        let scenario = try Scenario(rows: 200, settlement: "lookup")
        defer { scenario.remove() }
        let result = try await scenario.run(simulator)
        let stats = try await simulator.stats()
        await simulator.stop()
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        #expect(try scenario.outputIDs == scenario.expectedIDs)
        #expect(stats.resetsAfterCommit > 3)
        #expect(stats.duplicates.isEmpty)
        #expect(stats.sessionsCreated == 200)
    }

    @Test("SIGKILL at random moments, then a rerun: zero duplicates, zero lost rows", arguments: LedgerKind.available)
    func killedAndResumed(backend: LedgerKind) async throws {
        let simulator = try await Self.simulator(latency: 30)
        let scenario = try Scenario(rows: 300, concurrency: 4, backend: backend)
        defer { scenario.remove() }
        // Kill points, in requests after the last kill: fixed, so a failure replays the same way.
        let killAfter = [37, 8, 50, 21]
        var kills = 0
        for after in killAfter {
            // Kill while requests are being sent: after `after` more of them.
            let seen = try await simulator.stats().requests
            let target = seen + after
            let run = try scenario.start(simulator)
            let reached = try await eventually(tries: 15_000, pause: .milliseconds(2)) {
                try await simulator.stats().requests >= target || run.hasExited
            }
            #expect(reached, "the run neither reached \(target) requests nor exited")
            run.send(SIGKILL)
            let result = try await run.wait()
            if result.exitCode == SIGKILL { kills += 1 }
        }
        let final = try await scenario.run(simulator)
        let stats = try await simulator.stats()
        await simulator.stop()
        #expect(kills >= 2)
        #expect(final.exitCode == 0, "stderr: \(final.stderr)")
        #expect(try scenario.outputIDs == scenario.expectedIDs)
        #expect(stats.sessionsCreated == 300)
        #expect(stats.duplicates.isEmpty)
        let lost = try scenario.expectedIDs.count - scenario.outputIDs.count
        print(
            "kill (\(backend.rawValue)): rows 300, kills \(kills), requests \(stats.requests), replays \(stats.idempotentReplays), "
                + "sessions \(stats.sessionsCreated), duplicates \(stats.duplicates.count), "
                + "lost \(lost)")
    }

    @Test(
        "SIGINT, or SIGTERM sent twice at once as timeout does: the exit code, the output of what was done, a rerun completes",
        arguments: [[SIGINT], [SIGTERM, SIGTERM], [SIGHUP]])
    func interrupted(signals: [Int32]) async throws {
        let simulator = try await Self.simulator(latency: 50)
        let scenario = try Scenario(rows: 300, concurrency: 2)
        defer { scenario.remove() }
        let run = try scenario.start(simulator)
        // Interrupt once some sessions exist: at 50 ms a request, two at a time, 300 take 7.5 s.
        let started = try await eventually { try await simulator.stats().sessionsCreated >= 20 || run.hasExited }
        #expect(started, "neither 20 sessions were created nor did the run exit")
        for signal in signals { run.send(signal) }
        let result = try await run.wait()
        #expect(result.exitCode == 128 + signals[0], "stderr: \(result.stderr)")
        #expect(result.stderr.contains("run the same command again to continue"))
        #expect(!result.stderr.contains("exiting at once"))
        let recorded = try await BinaryRunner.run(["status", "--ledger", scenario.ledgerArgument])
        #expect(recorded.stdout.contains("exit \(result.exitCode)"), "status: \(recorded.stdout)")
        let done = try scenario.outputIDs
        let createdSoFar = try await simulator.stats().sessionsCreated
        #expect(!done.isEmpty && done.count < 300)
        #expect(done.count == createdSoFar)
        #expect(done == Array(scenario.expectedIDs.prefix(done.count)))

        let rerun = try await scenario.run(simulator)
        let stats = try await simulator.stats()
        await simulator.stop()
        #expect(rerun.exitCode == 0)
        #expect(try scenario.outputIDs == scenario.expectedIDs)
        #expect(stats.sessionsCreated == 300)
        #expect(stats.duplicates.isEmpty)
    }

    @Test(
        "two runs on one ledger: the second exits 75 at once, naming the holder, and sends nothing",
        arguments: LedgerKind.available)
    func secondRunLocked(backend: LedgerKind) async throws {
        let slow = try await Self.simulator(latency: 200)
        let other = try await Self.simulator()
        let scenario = try Scenario(rows: 100, concurrency: 1, backend: backend)
        defer { scenario.remove() }
        let first = try scenario.start(slow)
        let sending = try await eventually { try await slow.stats().requests > 0 || first.hasExited }
        #expect(sending, "the first run sent nothing")
        let second = try await scenario.run(other)
        // At once: the second run ended while the first (100 rows at 200 ms each) still runs.
        let firstStillRunning = !first.hasExited
        first.send(SIGKILL)
        let firstResult = try await first.wait()
        await slow.stop()
        let otherStats = try await other.stats()
        await other.stop()
        #expect(second.exitCode == 75)
        #expect(second.stderr.contains("another run holds the ledger"))
        #expect(second.stderr.contains("pid \(first.pid)"))
        #expect(otherStats.requests == 0)
        #expect(firstStillRunning, "the second run waited for the first to finish")
        #expect(firstResult.exitCode == SIGKILL, "stderr: \(firstResult.stderr)")
    }

    @Test(
        "two shards of one job on one PostgreSQL ledger, from two processes at once: every row once, one status for both; a second run of a shard exits 75",
        .enabled(if: LedgerKind.serverURL != nil))
    func shardsShareAPostgresLedger() async throws {
        let simulator = try await Self.simulator(latency: 40)
        let scenario = try Scenario(rows: 200, concurrency: 2, backend: .postgres)
        defer { scenario.remove() }
        func shard(_ index: Int) throws -> BinaryRunner {
            try BinaryRunner(
                scenario.arguments(simulator) + [
                    "--shard", "\(index)/2", "--output", scenario.folder + "/out/shard-\(index).csv",
                    "--rejects", scenario.folder + "/out/shard-\(index).rejects.csv",
                ],
                environment: ["VERILOCK_API_KEY": Self.key])
        }
        let first = try shard(1)
        let second = try shard(2)
        let bothSending = try await eventually {
            try await simulator.stats().requests >= 10 || first.hasExited || second.hasExited
        }
        #expect(bothSending)
        let again = try await shard(1).wait()
        let (one, two) = (try await first.wait(), try await second.wait())
        let stats = try await simulator.stats()
        await simulator.stop()
        #expect(again.exitCode == 75, "stderr: \(again.stderr)")
        #expect(again.stderr.contains("shard 1/2: pid \(first.pid)"), "stderr: \(again.stderr)")
        #expect(one.exitCode == 0 && two.exitCode == 0, "stderr: \(one.stderr) \(two.stderr)")
        let (ones, twos) = (try scenario.ids(in: "out/shard-1.csv"), try scenario.ids(in: "out/shard-2.csv"))
        #expect(!ones.isEmpty && !twos.isEmpty)
        #expect(Set(ones).isDisjoint(with: twos))
        #expect(Set(ones + twos) == Set(scenario.expectedIDs) && ones.count + twos.count == 200)
        #expect(stats.sessionsCreated == 200 && stats.duplicates.isEmpty)
        let status = try await BinaryRunner.run(["status", "--ledger", scenario.ledger, "--json"])
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any], "\(status.stderr)")
        #expect((json["applicants"] as? [String: Int])?["created"] == 200)
        #expect((json["runs"] as? [Any])?.count == 2)
    }

    @Test(
        "a PostgreSQL ledger's connection lost mid-run: sending stops, exit 69, what was committed kept; a rerun creates the rest once",
        .enabled(if: LedgerKind.serverURL != nil))
    func lostDatabaseConnection() async throws {
        let simulator = try await Self.simulator(latency: 40)
        let scenario = try Scenario(rows: 200, concurrency: 2, backend: .postgres)
        defer { scenario.remove() }
        let run = try scenario.start(simulator)
        let sending = try await eventually { try await simulator.stats().sessionsCreated >= 5 || run.hasExited }
        #expect(sending)
        let database = try #require(scenario.ledger.split(separator: "/").last?.split(separator: "?").first)
        try LedgerKind.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)'")
        let lost = try await run.wait()
        let createdBefore = try await simulator.stats().sessionsCreated
        #expect(lost.exitCode == 69, "stderr: \(lost.stderr)")
        #expect(lost.stderr.contains("lost the connection to the ledger"), "stderr: \(lost.stderr)")
        #expect(!lost.stderr.contains(try #require(ProcessInfo.processInfo.environment["PGPASSWORD"])))
        #expect(createdBefore < 200)
        let rerun = try await scenario.run(simulator)
        let stats = try await simulator.stats()
        await simulator.stop()
        #expect(rerun.exitCode == 0, "stderr: \(rerun.stderr)")
        #expect(try scenario.outputIDs.sorted() == scenario.expectedIDs.sorted())
        #expect(stats.sessionsCreated == 200 && stats.duplicates.isEmpty)
    }
}
