import Foundation
import Testing
import VerilockBatch
import VerilockSimulator

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Follow-through through the built binary: `sync` against a simulator whose applicants act on
/// their links, the follow-up exports, and reissue that knows the outcome.
@Suite("Follow-through of the binary", .serialized)
struct FollowThroughEndToEndTests {
    static let profile = "7f3c2a10-5d4e-4b8a-9c61-2e0f8d9b3a47"
    static let environment = ["VERILOCK_API_KEY": SimulatorConfiguration.defaultAPIKey]

    let folder: String = {
        let path = NSTemporaryDirectory() + "verilock-follow-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// Writes `count` applicants to the input file.
    func writeInput(count: Int) {
        let rows = (0..<count).map { "f-\($0),f\($0)@example.com,Name \($0)" }
        _ = FileManager.default.createFile(
            atPath: folder + "/in.csv",
            contents: Data(("external_id,applicant_email,applicant_name\n" + rows.joined(separator: "\n") + "\n").utf8))
    }

    /// The job's flags: the input, the simulator, the ledger and files in the test's folder.
    func job(_ simulator: SimulatorProcess) -> [String] {
        [
            "--input", folder + "/in.csv", "--profile-id", Self.profile, "--base-url", simulator.baseURL,
            "--ledger", folder + "/ledger.sqlite", "--output", folder + "/out.csv", "--rejects",
            folder + "/rejects.csv", "--concurrency", "8", "--rate-limit", "60000/min",
        ]
    }

    func binary(_ command: String, _ simulator: SimulatorProcess, _ extra: [String] = []) async throws
        -> BinaryRunner.Result
    {
        try await BinaryRunner.run(
            [command] + job(simulator) + extra + (command == "run" ? ["--progress", "never"] : []),
            environment: Self.environment)
    }

    /// Every session the simulator holds: id to (external_id, status, decision).
    static func truth(_ simulator: SimulatorProcess) async throws -> [String: (String, String, String)] {
        var sessions: [String: (String, String, String)] = [:]
        var page = 1
        while true {
            let url = try #require(URL(string: simulator.baseURL + "/sessions?per_page=100&page=\(page)"))
            var request = URLRequest(url: url)
            request.setValue("Bearer \(SimulatorConfiguration.defaultAPIKey)", forHTTPHeaderField: "Authorization")
            let (data, _) = try await URLSession.shared.data(for: request)
            let body = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            for item in body["data"] as? [[String: Any]] ?? [] {
                sessions[item["id"] as? String ?? ""] = (
                    item["external_id"] as? String ?? "", item["status"] as? String ?? "",
                    item["decision"] as? String ?? ""
                )
            }
            let meta = body["meta"] as? [String: Any] ?? [:]
            if page >= meta["last_page"] as? Int ?? 1 { return sessions }
            page += 1
        }
    }

    /// What the simulator says of each of `ids`, one `GET /sessions/{id}` each: id to
    /// (external_id, status, decision).
    static func truth(_ simulator: SimulatorProcess, ids: some Sequence<String>) async throws
        -> [String: (String, String, String)]
    {
        var sessions: [String: (String, String, String)] = [:]
        for id in ids {
            let url = try #require(URL(string: simulator.baseURL + "/sessions/" + id))
            var request = URLRequest(url: url)
            request.setValue("Bearer \(SimulatorConfiguration.defaultAPIKey)", forHTTPHeaderField: "Authorization")
            let (data, _) = try await URLSession.shared.data(for: request)
            let item = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            sessions[id] = (
                item["external_id"] as? String ?? "", item["status"] as? String ?? "", item["decision"] as? String ?? ""
            )
        }
        return sessions
    }

    /// Sends an admin request (`clock?advance=...`, `sessions/{id}`) to the simulator.
    static func admin(_ simulator: SimulatorProcess, _ path: String, body: String? = nil) async throws {
        let url = try #require(
            URL(string: simulator.baseURL.replacingOccurrences(of: "/api/v1", with: "/_admin/") + path))
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = body.map { Data($0.utf8) }
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200, "admin \(path)")
    }

    /// The rows of a CSV file the binary wrote, as dictionaries by header; a missing file throws.
    func rows(_ name: String) throws -> [[String: String]] {
        let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
        let header = lines.removeFirst()
        return lines.map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    /// What the ledger says of each current session, from the follow-up exports: session id to
    /// (status, decision).
    func ledgerView(_ simulator: SimulatorProcess) async throws -> [String: (String, String)] {
        var view: [String: (String, String)] = [:]
        for status in ["open", "completed", "expired"] {
            let export = try await BinaryRunner.run(
                [
                    "export", "--ledger", folder + "/ledger.sqlite", "--status", status, "--output",
                    folder + "/\(status).csv",
                ])
            #expect(export.exitCode == 0, "export --status \(status): \(export.stderr)")
            for row in try rows("\(status).csv") {
                view[row["session_id"] ?? ""] = (row["session_status"] ?? "", row["decision"] ?? "")
            }
        }
        return view
    }

    @Test(
        "sync follows the simulator within ceil(n/100)+10 requests; export --status open lists exactly the open links; a rerun after expiry reissues exactly the expired-and-unfinished"
    )
    func syncExportAndReissue() async throws {
        let simulator = try await SimulatorProcess([
            "--rate-limit", "60000/min", "--frozen-clock", "--progress-rate", "0.6", "--complete-rate", "0.7",
            "--seed", "5",
        ])
        writeInput(count: 500)
        // --sync on a ledger no run has used yet: nothing to sync, the run goes on.
        let first = try await binary("run", simulator, ["--sync"])
        #expect(first.exitCode == 0, "run: \(first.stderr)")
        let created = try await Self.truth(simulator)
        #expect(created.count == 500)
        // Half the links' life later, and three sessions set by hand.
        try await Self.admin(simulator, "clock?advance=1800")
        let chosen = created.keys.sorted().prefix(3)
        let forced = [
            #"{"status":"completed","decision":"declined"}"#, #"{"status":"expired"}"#, #"{"status":"in_progress"}"#,
        ]
        for (id, body) in zip(chosen, forced) { try await Self.admin(simulator, "sessions/\(id)", body: body) }
        let before = try await simulator.stats().requests
        let sync = try await binary("sync", simulator, ["--json"])
        #expect(sync.exitCode == 0, "sync: \(sync.stderr)")
        let requests = try await simulator.stats().requests - before
        #expect(requests <= 5 + 10, "sync sent \(requests) requests for 500 sessions")
        let truth = try await Self.truth(simulator)
        let view = try await ledgerView(simulator)
        #expect(view.count == 500)
        for (id, (_, status, decision)) in truth {
            #expect(view[id].map { [$0.0, $0.1] } == [status, decision], "session \(id)")
        }
        #expect(view[chosen[chosen.startIndex]].map { [$0.0, $0.1] } == ["completed", "declined"])
        let openIDs = Set(truth.filter { ["created", "in_progress", "processing"].contains($0.value.1) }.keys)
        let openRows = try rows("open.csv")
        #expect(Set(openRows.map { $0["session_id"] ?? "" }) == openIDs)
        #expect(openRows.count == openIDs.count)
        #expect(openRows.allSatisfy { $0["session_url"]?.hasPrefix("https://") == true })
        let status = try await BinaryRunner.run(["status", "--ledger", folder + "/ledger.sqlite", "--json"])
        let funnel = try #require(
            (try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["funnel_total"]
                as? [String: Int])
        #expect(funnel["invited"] == 500 && funnel["never_synced"] == 0)
        #expect(funnel["approved"] == truth.values.filter { $0.2 == "approved" }.count)
        #expect(funnel["expired_unused"] == truth.values.filter { $0.1 == "expired" }.count)

        // Past every link's expiry: what was not completed has expired.
        try await Self.admin(simulator, "clock?advance=2000")
        #expect(try await binary("sync", simulator).exitCode == 0)
        let final = try await Self.truth(simulator)
        let expired = Set(final.filter { $0.value.1 == "expired" }.map(\.value.0))
        let completed = Set(final.filter { $0.value.1 == "completed" }.map(\.value.0))
        #expect(expired.count + completed.count == 500)
        #expect(!expired.isEmpty && !completed.isEmpty)
        let rerun = try await binary("run", simulator)
        #expect(rerun.exitCode == 0, "rerun: \(rerun.stderr)")
        let output = try rows("out.csv")
        #expect(Set(output.filter { $0["status"] == "reissued" }.map { $0["external_id"] ?? "" }) == expired)
        #expect(Set(output.filter { $0["status"] == "completed" }.map { $0["external_id"] ?? "" }) == completed)
        #expect(try await Self.truth(simulator).count == 500 + expired.count)
        await simulator.stop()
    }

    @Test("sync interrupted with SIGINT exits 130; run again, it ends with the ledger the simulator says")
    func interruptedSync() async throws {
        // No list endpoint: every session is fetched one by one, slowly enough to be interrupted.
        let simulator = try await SimulatorProcess([
            "--rate-limit", "60000/min", "--frozen-clock", "--progress-rate", "0.7", "--complete-rate", "0.6",
            "--seed", "9", "--no-lookup-endpoint", "--latency", "20",
        ])
        writeInput(count: 300)
        #expect(try await binary("run", simulator).exitCode == 0)
        try await Self.admin(simulator, "clock?advance=2400")
        let before = try await simulator.stats().requests
        let runner = try BinaryRunner(
            ["sync"] + job(simulator) + ["--concurrency", "2"], environment: Self.environment)
        let started = try await eventually { (try? await simulator.stats().requests).map { $0 > before + 40 } ?? false }
        #expect(started, "the sync did not get going")
        runner.send(SIGINT)
        let interrupted = try await runner.wait()
        #expect(interrupted.exitCode == 130, "stderr: \(interrupted.stderr)")
        #expect(interrupted.stderr.contains("interrupted by SIGINT"))
        let partial = try await ledgerView(simulator).values.filter { $0.0 != "created" }.count
        let again = try await binary("sync", simulator)
        #expect(again.exitCode == 0, "stderr: \(again.stderr)")
        #expect(again.stderr.contains("list not used: GET /sessions answered HTTP 404"))
        let view = try await ledgerView(simulator)
        let truth = try await Self.truth(simulator, ids: view.keys)
        #expect(view.count == 300)
        for (id, (_, status, decision)) in truth {
            #expect(view[id].map { [$0.0, $0.1] } == [status, decision], "session \(id)")
        }
        #expect(partial < view.values.filter { $0.0 != "created" }.count, "the interrupted sync did everything")
        await simulator.stop()
    }
}
