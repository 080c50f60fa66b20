import Foundation
import Testing
import VerilockSimulator

/// The built binary against the simulator, live on port 0: what an operator would run and check.
@Suite("verilock-batch binary against the simulator", .serialized)
struct BinaryEndToEndTests {
    static let profile = "7f3c2a10-5d4e-4b8a-9c61-2e0f8d9b3a47"

    let folder: String = {
        let path = NSTemporaryDirectory() + "verilock-e2e-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    static let messyCSV = #"""
        user_id,email,first_name,last_name
        u-1,ana@example.com,Ana,Silva
        u-2,not-an-email,Ben,Okafor
        u-3,chloe@example.com,"Chloé ""C""",Martin
        u-1,ana@example.com,Ana,Silva
        u-4,dmitri@example.com,Dmitri
        ,eve@example.com,Eve,N
        u-5,farid@example.com,"=cmd|' /C calc'!A0",Haddad
        u-6,grace@example.com,"Grace
        Ann",Obi

        """#

    func write(_ name: String, _ text: String) -> String {
        let path = folder + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    func arguments(input: String, simulator: SimulatorProcess, extra: [String] = []) -> [String] {
        let job = write(
            "columns.yaml",
            """
            input:
              columns:
                external_id: user_id
                applicant_email: email
                applicant_name: [first_name, last_name]
            """)
        return [
            "run", job, "--input", input, "--profile-id", Self.profile, "--base-url", simulator.baseURL,
            "--ledger", folder + "/state/ledger.sqlite", "--output", folder + "/out/output.csv",
            "--rejects", folder + "/out/rejects.csv", "--rate-limit", "6000/min", "--concurrency", "4",
            "--max-attempts", "3",
        ] + extra
    }

    /// The rows of the CSV file at `path`; a missing file, or one whose last row is cut, throws.
    static func csvRows(_ path: String) throws -> [[String]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var rows: [[String]] = []
        var row: [String] = []
        var cell = ""
        var quoted = false
        var previous: Character?
        for character in text {
            if quoted {
                if character == "\"" { quoted = false } else { cell.append(character) }
            } else if character == "\"" {
                if previous == "\"" { cell.append("\"") }
                quoted = true
            } else if character == "," {
                row.append(cell)
                cell = ""
            } else if character == "\n" {
                row.append(cell)
                rows.append(row)
                row = []
                cell = ""
            } else {
                cell.append(character)
            }
            previous = character
        }
        guard !quoted, row.isEmpty, cell.isEmpty else {
            throw CSVFileError(path: path, reason: "the last row is not terminated by a newline")
        }
        return rows
    }

    @Test("messy input: the right sessions, rejects and exit code; a rerun sends nothing and writes the same output")
    func messyInputAndRerun() async throws {
        let simulator = try await SimulatorProcess(["--profiles", Self.profile, "--rate-limit", "6000/min"])
        let input = write("applicants.csv", Self.messyCSV)
        let env = ["VERILOCK_API_KEY": SimulatorConfiguration.defaultAPIKey]

        let first = try await BinaryRunner.run(arguments(input: input, simulator: simulator), environment: env)
        #expect(first.exitCode == 1, "stderr: \(first.stderr)")
        let output = try Self.csvRows(folder + "/out/output.csv")
        try #require(output.count == 4)
        #expect(
            output.first == [
                "external_id", "applicant_email", "applicant_name", "session_id", "session_url",
                "expires_at", "status",
            ])
        #expect(output.dropFirst().map { $0[0] } == ["u-1", "u-3", "u-5"])
        #expect(output.dropFirst().allSatisfy { $0[6] == "created" && $0[4].contains("/verify/tok_") })
        #expect(output[2][2] == "Chloé \"C\" Martin")
        #expect(output[3][2] == "'=cmd|' /C calc'!A0 Haddad")
        let rejects = try Self.csvRows(folder + "/out/rejects.csv")
        try #require(rejects.allSatisfy { $0.count == 9 })
        #expect(
            rejects.first == [
                "file", "line", "external_id", "reason", "error", "user_id", "email", "first_name",
                "last_name",
            ])
        #expect(rejects[1][5...] == ["u-2", "not-an-email", "Ben", "Okafor"])
        #expect(
            rejects.dropFirst().map { [$0[1], $0[2], $0[3]] } == [
                ["3", "u-2", "invalid"], ["5", "u-1", "duplicate"], ["6", "", "invalid"], ["7", "", "invalid"],
                // A name with a newline (quoted, RFC 4180) holds a control character: rejected.
                ["9", "u-6", "invalid"],
            ])
        #expect(rejects.last?[4].contains("control character") == true)
        #expect(output.count - 1 + rejects.count - 1 == 8)
        var stats = try await simulator.stats()
        #expect(stats.sessionsCreated == 3)
        #expect(stats.duplicates.isEmpty)
        let requestsAfterFirst = stats.requests

        let second = try await BinaryRunner.run(arguments(input: input, simulator: simulator), environment: env)
        #expect(second.exitCode == 1)
        let rerun = try Self.csvRows(folder + "/out/output.csv")
        try #require(rerun.allSatisfy { $0.count == 7 })
        #expect(rerun.dropFirst().map { $0[3] } == output.dropFirst().map { $0[3] })
        #expect(rerun.dropFirst().allSatisfy { $0[6] == "existing" })
        stats = try await simulator.stats()
        #expect(stats.requests == requestsAfterFirst)
        #expect(second.stderr.contains("existing    3"))
        await simulator.stop()
    }

    @Test("a gzip export, named .csv.gz or piped on standard input, gives the plain file's sessions and rejects")
    func gzipInputs() async throws {
        let simulator = try await SimulatorProcess(["--profiles", Self.profile, "--rate-limit", "6000/min"])
        let env = ["VERILOCK_API_KEY": SimulatorConfiguration.defaultAPIKey]
        let plain = write("applicants.csv", Self.messyCSV)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gzip.arguments = ["gzip", "-k", plain]
        try gzip.run()
        gzip.waitUntilExit()
        try #require(gzip.terminationStatus == 0)

        let named = try await BinaryRunner.run(
            arguments(input: plain + ".gz", simulator: simulator), environment: env)
        #expect(named.exitCode == 1, "stderr: \(named.stderr)")
        let output = try Self.csvRows(folder + "/out/output.csv")
        #expect(output.dropFirst().map { $0[0] } == ["u-1", "u-3", "u-5"])
        #expect(output.dropFirst().allSatisfy { $0[6] == "created" })
        let rejects = try Self.csvRows(folder + "/out/rejects.csv")
        #expect(rejects.dropFirst().map { $0[0] } == Array(repeating: plain + ".gz", count: 5))
        #expect(rejects.dropFirst().map { $0[1] } == ["3", "5", "6", "7", "9"])

        #expect(try await simulator.stats().sessionsCreated == 3)
        await simulator.stop()

        // The same export on standard input, with a fresh ledger and server: gzip by its first bytes.
        try FileManager.default.removeItem(atPath: folder + "/state")
        let second = try await SimulatorProcess(["--profiles", Self.profile, "--rate-limit", "6000/min"])
        let piped = try await BinaryRunner.run(
            arguments(input: "-", simulator: second), environment: env, standardInput: plain + ".gz")
        #expect(piped.exitCode == 1, "stderr: \(piped.stderr)")
        #expect(try Self.csvRows(folder + "/out/output.csv").dropFirst().map { $0[0] } == ["u-1", "u-3", "u-5"])
        #expect(try Self.csvRows(folder + "/out/rejects.csv").dropFirst().map { $0[1] } == ["3", "5", "6", "7", "9"])
        #expect(try await second.stats().sessionsCreated == 3)
        await second.stop()
    }

    @Test("a wrong key stops the run with exit 77 after a handful of requests")
    func wrongKey() async throws {
        let simulator = try await SimulatorProcess(["--profiles", Self.profile, "--rate-limit", "6000/min"])
        let rows = (1...300).map { "u-\($0),user\($0)@example.com,First,Last" }.joined(separator: "\n")
        let input = write("many.csv", "user_id,email,first_name,last_name\n\(rows)\n")
        let result = try await BinaryRunner.run(
            arguments(input: input, simulator: simulator), environment: ["VERILOCK_API_KEY": "qi_test_revoked"])
        #expect(result.exitCode == 77)
        #expect(result.stderr.contains("refused the key"))
        #expect(!result.stderr.contains("qi_test_revoked"))
        let stats = try await simulator.stats()
        #expect(stats.unauthorized <= 4)
        #expect(stats.sessionsCreated == 0)
        #expect(try Self.csvRows(folder + "/out/rejects.csv").count == 301)
        await simulator.stop()
    }

    @Test("job and input problems exit with their codes before anything is sent")
    func exitCodes() async throws {
        let simulator = try await SimulatorProcess()
        let env = ["VERILOCK_API_KEY": SimulatorConfiguration.defaultAPIKey]
        let missing = try await BinaryRunner.run(
            arguments(input: folder + "/nope.csv", simulator: simulator), environment: env)
        #expect(missing.exitCode == 66)
        #expect(missing.stderr.contains("nope.csv does not exist"))

        let job = write("job.yaml", "name: x\ninput:\n  files: [a.csv]\n  colums: {}\n")
        let badJob = try await BinaryRunner.run(["run", job], environment: env)
        #expect(badJob.exitCode == 78)
        #expect(badJob.stderr.contains("job.yaml:4: unknown key 'input.colums'"))

        let input = write("a.csv", "user_id,email,first_name,last_name\nu-1,a@example.com,A,B\n")
        let insecure = try await BinaryRunner.run(
            ["run", "--input", input, "--profile-id", Self.profile, "--base-url", "http://verilock.io/api/v1"],
            environment: env)
        #expect(insecure.exitCode == 78)

        let noKey = try await BinaryRunner.run(
            arguments(input: input, simulator: simulator), environment: [:])
        #expect(noKey.exitCode == 78)
        #expect(noKey.stderr.contains("VERILOCK_API_KEY"))

        let usage = try await BinaryRunner.run(["run", "--concurrency", "zero"], environment: env)
        #expect(usage.exitCode == 64)
        #expect(try await simulator.stats().requests == 0)
        await simulator.stop()
    }

    @Test("the demo job runs on a fresh copy with no key and no network")
    func demo() async throws {
        let root = BinaryRunner.repositoryRoot
        try FileManager.default.createDirectory(atPath: folder + "/jobs", withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: root.appendingPathComponent("jobs/demo.yaml").path, toPath: folder + "/jobs/demo.yaml")
        try FileManager.default.copyItem(
            atPath: root.appendingPathComponent("samples").path, toPath: folder + "/samples")
        let result = try await BinaryRunner.run(["run", "jobs/demo.yaml"], directory: folder)
        #expect(result.exitCode == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("(against the simulator)"))
        let output = try Self.csvRows(folder + "/out/demo.csv")
        let rejects = try Self.csvRows(folder + "/out/demo.rejects.csv")
        #expect(output.count - 1 == 11)
        #expect(rejects.count - 1 == 9)
        let mode = try FileManager.default.attributesOfItem(atPath: folder + "/out/demo.csv")[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}

/// A file a test reads is not what it should be.
struct CSVFileError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "\(path): \(reason)" }
}
