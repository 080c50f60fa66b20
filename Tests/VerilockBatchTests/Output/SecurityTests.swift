import Foundation
import InMemoryLogging
import Logging
import Testing

@testable import VerilockBatch

extension InMemoryLogHandler {
    /// A logger writing here at every level.
    func logger() -> Logger {
        var logger = Logger(label: "test") { _ in self }
        logger.logLevel = .trace
        return logger
    }

    /// Every entry as a line: level, message and metadata, the place a leak would show.
    var text: String {
        entries.map { "\($0.level) \($0.message) \($0.metadata)" }.joined(separator: "\n")
    }
}

@Suite("Security: private files, secrets out of logs")
struct SecurityTests {
    @Test("files are created 0600 in 0700 folders whatever the umask")
    func modes() async throws {
        let previous = umask(0)
        defer { umask(previous) }
        var harness = RunnerHarness(inputs: ["a.csv": BatchRunnerTests.csv(rows: 2) + "bad,\n"])
        harness.job.outputPath = harness.folder.path + "/new/dir/out.csv"
        let report = try await harness.run(FakeSessionsAPI())
        #expect(report.exitCode == 0)
        #expect(report.counts.created == 3)
        for path in [
            harness.job.ledgerPath, harness.job.outputPath, harness.job.rejectsPath, harness.job.ledgerPath + ".lock",
        ] {
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(path)")
        }
        let folderMode =
            try FileManager.default.attributesOfItem(atPath: harness.folder.path + "/new/dir")[
                .posixPermissions] as? Int
        #expect(folderMode == 0o700)
    }

    @Test("at debug level, the logs hold neither tokens nor e-mails nor names; an exposed ledger is warned about")
    func logsAtDebug() async throws {
        let harness = RunnerHarness(inputs: [
            "a.csv": "external_id,applicant_email,applicant_name\nq-1,hidden.person@example.com,Hidden Person\n"
        ])
        PrivateFiles.makeParentDirectoriesForTest(harness.job.ledgerPath)
        _ = FileManager.default.createFile(
            atPath: harness.job.ledgerPath, contents: nil, attributes: [.posixPermissions: 0o644])
        let logs = InMemoryLogHandler()
        let api = FakeSessionsAPI { request, previous in
            previous == 0
                ? FakeSessionsAPI.error(500, code: "boom", message: "retry me") : FakeSessionsAPI.created(request)
        }
        let report = try await BatchRunner(
            job: harness.job, api: api, clock: TestClock(), jitter: { 0 }, logger: logs.logger()
        ).run()
        #expect(report.exitCode == 0)
        #expect(report.counts.created == 1)
        let text = logs.text
        #expect(text.contains("readable by others"))
        #expect(text.contains("retrying"))
        for secret in ["hidden.person", "Hidden Person", "tok_"] {
            #expect(!text.contains(secret), "the logs leak \(secret)")
        }
    }

    @Test("a key file others can read is warned about; the key itself is never in the warning")
    func keyFileWarning() throws {
        let folder = TemporaryDirectory()
        let path = folder.write("key", "qi_test_secretkey\n")
        _ = chmod(path, 0o644)
        var settings = APISettings()
        settings.keyFile = path
        var warnings: [String] = []
        let key = try APIKey.resolve(settings, environment: [:]) { warnings.append($0) }
        #expect(key == "qi_test_secretkey")
        #expect(warnings.count == 1)
        #expect(!warnings.joined().contains("secretkey"))
    }

    @Test("a missing key names the variable to set")
    func missingKey() {
        #expect(throws: APIError.missingKey(source: "VERILOCK_API_KEY")) {
            _ = try APIKey.resolve(APISettings(), environment: [:])
        }
    }

    @Test("escape_formulas off writes fields as they are")
    func formulasOff() async throws {
        var harness = RunnerHarness(inputs: ["a.csv": "external_id,applicant_name\n-1,=SUM(A1)\n"])
        harness.job.escapeFormulas = false
        let first = try await harness.run(FakeSessionsAPI())
        #expect(first.exitCode == 0)
        #expect(try harness.outputRows.first?["applicant_name"] == "=SUM(A1)")
        harness.job.escapeFormulas = true
        let second = try await harness.run(FakeSessionsAPI())
        #expect(second.exitCode == 0)
        #expect(try harness.outputRows.first?["applicant_name"] == "'=SUM(A1)")
        #expect(try harness.outputRows.first?["external_id"] == "'-1")
    }
}

extension PrivateFiles {
    static func makeParentDirectoriesForTest(_ path: String) {
        try? makeParentDirectories(of: path)
    }
}
