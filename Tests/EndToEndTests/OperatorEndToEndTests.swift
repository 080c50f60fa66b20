import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import Testing
import VerilockSimulator

/// Operator features through the built binary: pings, JSON logs, status, export, validate.
@Suite("Operator features of the binary", .serialized)
struct OperatorEndToEndTests {
    static let profile = "7f3c2a10-5d4e-4b8a-9c61-2e0f8d9b3a47"

    let folder: String = {
        let path = NSTemporaryDirectory() + "verilock-ops-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    func input(_ text: String) -> String {
        let path = folder + "/in.csv"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    func arguments(_ simulator: SimulatorProcess, _ extra: [String] = []) -> [String] {
        [
            "run", "--input", folder + "/in.csv", "--profile-id", Self.profile, "--base-url", simulator.baseURL,
            "--ledger", folder + "/ledger.sqlite", "--output", folder + "/out.csv", "--rejects",
            folder + "/rejects.csv",
        ] + extra
    }

    @Test("pings: /start, then the URL on success and /<exit code> on failure; a dead ping URL never fails a run")
    func pings() async throws {
        let received = Mutex([String]())
        let router = Router()
        router.post("/ping/**") { request, _ -> Response in
            received.withLock { $0.append(request.uri.path) }
            return Response(status: .ok)
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) })
        let server = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let simulator = try await SimulatorProcess(["--rate-limit", "60000/min"])
        let env = ["VERILOCK_API_KEY": SimulatorConfiguration.defaultAPIKey]
        _ = input("external_id,applicant_email\nk-1,a@example.com\n")
        let ok = try await BinaryRunner.run(
            arguments(simulator, ["--ping-url", "http://127.0.0.1:\(port)/ping/abc"]), environment: env)
        _ = input("external_id,applicant_email\nk-2,bad\n")
        let rejected = try await BinaryRunner.run(
            arguments(simulator, ["--ping-url", "http://127.0.0.1:\(port)/ping/abc"]), environment: env)
        let deadPing = try await BinaryRunner.run(
            arguments(simulator, ["--ping-url", "http://127.0.0.1:9/ping/none"]), environment: env)
        server.cancel()
        _ = try? await server.value
        await simulator.stop()
        #expect(ok.exitCode == 0)
        #expect(rejected.exitCode == 1)
        #expect(deadPing.exitCode == 1)
        #expect(deadPing.stderr.contains("ping failed"))
        #expect(received.withLock { $0 } == ["/ping/abc/start", "/ping/abc", "/ping/abc/start", "/ping/abc/1"])
    }

    @Test("JSON logs at debug level: one object per line, never the key, a token, an e-mail or a name")
    func jsonLogs() async throws {
        let simulator = try await SimulatorProcess(["--rate-limit", "60000/min"])
        _ = input(
            "external_id,applicant_email,applicant_name\nj-1,secret.person@example.com,Jane Secretname\nj-2,bad,X\n")
        let result = try await BinaryRunner.run(
            arguments(simulator, ["--verbose", "--log-format", "json", "--progress", "never"]),
            environment: ["VERILOCK_API_KEY": SimulatorConfiguration.defaultAPIKey])
        await simulator.stop()
        #expect(result.exitCode == 1)
        let logLines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(!logLines.isEmpty)
        for line in logLines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil)
        }
        let output = try String(contentsOfFile: folder + "/out.csv", encoding: .utf8)
        let token = output.split(separator: "/").last.map { String($0.prefix(20)) } ?? "tok_"
        for secret in [SimulatorConfiguration.defaultAPIKey, "secret.person", "Secretname", token] {
            #expect(!result.stderr.contains(secret), "stderr leaks \(secret)")
        }
    }

    @Test(
        "export --run of a rerun reads its unchanged input again for the rows that already had a session; a changed input is refused"
    )
    func exportReplaysExistingRows() async throws {
        let simulator = try await SimulatorProcess(["--rate-limit", "60000/min"])
        let env = ["VERILOCK_API_KEY": SimulatorConfiguration.defaultAPIKey]
        _ = input("external_id,applicant_email\ne-1,a@example.com\ne-2,b@example.com\n")
        #expect(try await BinaryRunner.run(arguments(simulator), environment: env).exitCode == 0)
        _ = input("external_id,applicant_email\ne-2,b@example.com\ne-3,c@example.com\ne-1,a@example.com\nbad,x\n")
        let rerun = try await BinaryRunner.run(arguments(simulator), environment: env)
        await simulator.stop()
        #expect(rerun.exitCode == 1)
        let original = try String(contentsOfFile: folder + "/out.csv", encoding: .utf8)
        #expect(original.split(separator: "\n").map { $0.prefix(4) } == ["exte", "e-2,", "e-3,", "e-1,"])
        let ledger = folder + "/ledger.sqlite"
        let again = try await BinaryRunner.run([
            "export", "--ledger", ledger, "--run", "2", "--output", folder + "/again.csv",
        ])
        #expect(again.exitCode == 0, "stderr: \(again.stderr)")
        #expect(try String(contentsOfFile: folder + "/again.csv", encoding: .utf8) == original)
        _ = input("external_id,applicant_email\ne-2,b@example.com\ne-3,c@example.com\n")
        let changed = try await BinaryRunner.run([
            "export", "--ledger", ledger, "--run", "2", "--output", folder + "/changed.csv",
        ])
        #expect(changed.exitCode == 66)
        #expect(changed.stderr.contains("in.csv cannot be read as the run read it (it changed since"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/changed.csv"))
    }

    @Test("status, export and validate from the command line")
    func commands() async throws {
        let simulator = try await SimulatorProcess(["--rate-limit", "60000/min"])
        _ = input("external_id,applicant_email\ns-1,a@example.com\ns-2,b@example.com\ns-3,bad\n")
        let env = ["VERILOCK_API_KEY": SimulatorConfiguration.defaultAPIKey]
        let run = try await BinaryRunner.run(arguments(simulator), environment: env)
        #expect(run.exitCode == 1, "stderr: \(run.stderr)")
        await simulator.stop()
        let status = try await BinaryRunner.run(["status", "--ledger", folder + "/ledger.sqlite"])
        #expect(status.exitCode == 0)
        #expect(status.stdout.contains("applicants   created 2, pending 0, failed 0"))
        #expect(status.stdout.contains("exit 1: read 3, created 2"))
        let json = try await BinaryRunner.run(["status", "--ledger", folder + "/ledger.sqlite", "--json"])
        let parsed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((parsed?["applicants"] as? [String: Int])?["created"] == 2)
        let export = try await BinaryRunner.run([
            "export", "--ledger", folder + "/ledger.sqlite", "--output", folder + "/again.csv",
        ])
        #expect(export.exitCode == 0)
        let original = try String(contentsOfFile: folder + "/out.csv", encoding: .utf8)
        #expect(try String(contentsOfFile: folder + "/again.csv", encoding: .utf8) == original)
        let validate = try await BinaryRunner.run([
            "validate", "--input", folder + "/in.csv", "--profile-id", Self.profile,
        ])
        #expect(validate.exitCode == 1)
        #expect(validate.stdout.contains("in.csv:4: s-3 invalid: applicant_email 'bad' is not an e-mail address"))
        let dry = try await BinaryRunner.run(
            [
                "run", "--dry-run", "--input", folder + "/in.csv", "--profile-id", Self.profile,
                "--ledger", folder + "/ledger.sqlite",
            ])
        #expect(dry.exitCode == 1)
        #expect(dry.stderr.contains("would skip     2 (existing)"))
        // A dry run's report may not overwrite what the run reads.
        for target in ["/ledger.sqlite", "/in.csv"] {
            let clobber = try await BinaryRunner.run(
                [
                    "run", "--dry-run", "--input", folder + "/in.csv", "--profile-id", Self.profile,
                    "--ledger", folder + "/ledger.sqlite", "--report", folder + "/./" + target,
                ])
            #expect(clobber.exitCode == 78, "\(target): \(clobber.stderr)")
        }
        #expect(
            try String(contentsOfFile: folder + "/in.csv", encoding: .utf8).hasPrefix("external_id,applicant_email"))

        let backup = try await BinaryRunner.run([
            "ledger", "backup", "--ledger", folder + "/ledger.sqlite", folder + "/backup/copy.sqlite",
        ])
        #expect(backup.exitCode == 0, "stderr: \(backup.stderr)")
        let check = try await BinaryRunner.run(["ledger", "check", "--ledger", folder + "/backup/copy.sqlite"])
        #expect(check.exitCode == 0)
        #expect(check.stdout.contains("applicants  created 2, pending 0, failed 0"))
        #expect(check.stdout.contains("integrity   ok"))
        let again = try await BinaryRunner.run([
            "ledger", "backup", "--ledger", folder + "/ledger.sqlite", folder + "/backup/copy.sqlite",
        ])
        #expect(again.exitCode == 73)
        #expect(again.stderr.contains("the backup file exists"))
        // A ledger whose pages are overwritten is not sound: exit 73.
        let damaged = folder + "/damaged.sqlite"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/backup/copy.sqlite"))
        try #require(bytes.count > 8192)
        bytes.replaceSubrange(4096..<8192, with: Data(repeating: 0xA5, count: 4096))
        try bytes.write(to: URL(fileURLWithPath: damaged))
        let broken = try await BinaryRunner.run(["ledger", "check", "--ledger", damaged])
        #expect(broken.exitCode == 73, "stdout: \(broken.stdout) stderr: \(broken.stderr)")
    }
}
