import Foundation
import Logging
import Synchronization
import Testing

@testable import VerilockBatch

@Suite("Operator features: dry run, validate, status, export, policies")
struct OperatorTests {
    static let messy = """
        external_id,applicant_email
        u-1,a@example.com
        u-2,bad
        u-3,c@example.com
        u-1,dup@example.com

        """

    @Test("a dry run counts what a run would do, with an ETA, and leaves the ledger and files untouched")
    func dryRun() async throws {
        var harness = RunnerHarness(inputs: ["a.csv": Self.messy])
        harness.job.api.rateLimit = RateLimit(requestsPerSecond: 2)
        let first = try await harness.run(FakeSessionsAPI())
        #expect(first.exitCode == 1)
        harness.folder.write("a.csv", Self.messy + "u-4,d@example.com\nu-5,e@example.com\n")
        let before = try harness.folder.read(harness.job.outputPath)
        let ledger = try SQLiteLedger(path: harness.job.ledgerPath)
        let runsBefore = try await ledger.status(now: Date()).runs.count
        let preview = try await RunPreview.dryRun(job: harness.job, logger: Logger(label: "test"))
        #expect(preview.rowsRead == 6)
        #expect(preview.wouldCreate == 2)
        #expect(preview.wouldSkip == 2)
        #expect(preview.wouldReject == ["invalid": 1, "duplicate": 1])
        #expect(preview.summary.contains("2 creates at 120/min: about 1 s"))
        #expect(try await ledger.status(now: Date()).runs.count == runsBefore)
        #expect(try harness.folder.read(harness.job.outputPath) == before)
    }

    @Test("the ETA reads like an operator's estimate")
    func eta() {
        var preview = RunPreview()
        preview.wouldCreate = 9412
        preview.requestsPerSecond = 2
        #expect(preview.summary.contains("9,412 creates at 120/min: about 78 min"))
    }

    @Test("validate lists every rejected row with its file and line, and touches no ledger")
    func validate() async throws {
        let harness = RunnerHarness(inputs: ["a.csv": Self.messy])
        let rejected = Mutex<[String]>([])
        let preview = try await RunPreview.validate(job: harness.job, logger: Logger(label: "test")) { path, row in
            rejected.withLock { $0.append("\((path as NSString).lastPathComponent):\(row.line) \(row.reason)") }
        }
        #expect(rejected.withLock { $0 } == ["a.csv:3 invalid", "a.csv:5 duplicate"])
        #expect(preview.rejected == 2)
        #expect(!FileManager.default.fileExists(atPath: harness.job.ledgerPath))
    }

    @Test("status shows states, runs with their exit codes, pending rows and links expiring within a day")
    func status() async throws {
        let harness = RunnerHarness(inputs: ["a.csv": BatchRunnerTests.csv(rows: 4)])
        let now = Date(timeIntervalSince1970: 1_900_000_000)
        let api = FakeSessionsAPI { request, _ in
            switch request.externalID {
            case "u-1":
                return FakeSessionsAPI.created(request, expiresAt: Timestamp.string(now.addingTimeInterval(3600)))
            case "u-2": return FakeSessionsAPI.error(503, code: "unavailable", message: "maintenance")
            default: return FakeSessionsAPI.created(request, expiresAt: "2099-01-01T00:00:00Z")
            }
        }
        let report = try await harness.run(api, now: now)
        #expect(report.exitCode == 69)
        let status = try await SQLiteLedger(path: harness.job.ledgerPath).status(now: now)
        #expect(status.applicants == ["created": 3, "pending": 1])
        #expect(status.expiringWithinDay == 1)
        #expect(status.expiring.map(\.externalID) == ["u-1"])
        #expect(status.pending.map(\.externalID) == ["u-2"])
        #expect(status.pending.first?.lastError?.contains("HTTP 503") == true)
        #expect(status.runs.first?.exitCode == 69)
        #expect(status.runs.first?.counts?.created == 3)
        #expect(status.text.contains("exit 69"))
    }

    @Test("export rebuilds a run's output from the ledger, byte for byte, and --all lists every session")
    func export() async throws {
        let harness = RunnerHarness(inputs: ["a.csv": Self.messy])
        let report = try await harness.run(FakeSessionsAPI())
        let original = try harness.folder.read(harness.job.outputPath)
        let ledger = try SQLiteLedger(path: harness.job.ledgerPath)
        let copy = harness.folder.path + "/export.csv"
        let all = harness.folder.path + "/all.csv"
        let runID = report.runID
        let count = try await ledger.reading { view in
            let inputPaths = try view.inputPaths(runID: runID)
            try ResultFiles(ledger: view, scope: .run(runID), inputPaths: inputPaths)
                .writeOutput(
                    to: copy,
                    lines: OutputLineFormat(
                        format: .csv, columns: OutputColumn.defaults, escapeFormulas: true, inputPaths: inputPaths),
                    include: .all)
            return try ResultFiles(ledger: view, scope: .sessions(SessionSelection(now: Date())), inputPaths: [])
                .writeOutput(
                    to: all,
                    lines: OutputLineFormat(
                        format: .csv, columns: OutputColumn.defaults, escapeFormulas: true, inputPaths: []),
                    include: .all)
        }
        #expect(try harness.folder.read(copy) == original)
        #expect(count == 2)
    }

    @Test("include new: a rerun's output holds only the rows created now")
    func includeNew() async throws {
        var harness = RunnerHarness(inputs: ["a.csv": BatchRunnerTests.csv(rows: 3)])
        harness.job.include = .new
        let first = try await harness.run(FakeSessionsAPI())
        #expect(first.exitCode == 0)
        #expect(try harness.outputRows.count == 3)
        harness.folder.write("a.csv", BatchRunnerTests.csv(rows: 5))
        let second = try await harness.run(FakeSessionsAPI())
        #expect(second.exitCode == 0)
        #expect(second.counts.created == 2)
        #expect(try harness.outputRows.map { $0["external_id"] } == ["u-4", "u-5"])
    }

    @Test(
        "retry_failed decides what a rerun does with a row the API refused",
        arguments: [
            (RetryFailed.changed, false, 1), (.changed, true, 2), (.always, false, 2), (.never, true, 1),
        ])
    func retryFailed(policy: RetryFailed, changeData: Bool, requests: Int) async throws {
        var harness = RunnerHarness(inputs: ["a.csv": "external_id,applicant_email\nu-1,a@example.com\n"])
        harness.job.policy.retryFailed = policy
        let api = FakeSessionsAPI { request, previous in
            FakeSessionsAPI.error(422, code: "validation_error", message: "refused")
        }
        let first = try await harness.run(api)
        #expect(first.exitCode == 1)
        if changeData { harness.folder.write("a.csv", "external_id,applicant_email\nu-1,new@example.com\n") }
        let second = try await harness.run(api)
        #expect(second.exitCode == 1)
        #expect(api.requests.count == requests)
        #expect(try harness.rejectRows.first?["reason"] == "failed")
        #expect(try harness.rejectRows.first?["error"]?.contains("refused") == true)
    }

    @Test("without reissue, an expired link is listed in rejects as expired")
    func expiredWithoutReissue() async throws {
        var harness = RunnerHarness(inputs: ["a.csv": BatchRunnerTests.csv(rows: 2)])
        harness.job.policy.reissueExpired = false
        let api = FakeSessionsAPI { request, _ in FakeSessionsAPI.created(request, expiresAt: "2030-01-01T00:00:00Z") }
        let first = try await harness.run(api, now: Date(timeIntervalSince1970: 1_800_000_000))
        #expect(first.exitCode == 0)
        let report = try await harness.run(api, now: Date(timeIntervalSince1970: 1_950_000_000))
        #expect(report.counts.expired == 2)
        #expect(try harness.rejectRows.allSatisfy { $0["reason"] == "expired" })
        #expect(api.requests.count == 2)
    }

    @Test("the reissue margin counts a link expiring soon as expired")
    func reissueMargin() async throws {
        var harness = RunnerHarness(inputs: ["a.csv": BatchRunnerTests.csv(rows: 1)])
        harness.job.policy.reissueMargin = .seconds(6 * 3600)
        let now = Date(timeIntervalSince1970: 1_900_000_000)
        let api = FakeSessionsAPI { request, _ in
            FakeSessionsAPI.created(request, expiresAt: Timestamp.string(now.addingTimeInterval(4 * 3600)))
        }
        let first = try await harness.run(api, now: now)
        #expect(first.counts.created == 1)
        let report = try await harness.run(api, now: now)
        #expect(report.counts.reissued == 1)
    }
}

@Suite("Pass-through columns and rejects that can be fed back")
struct PassThroughTests {
    static let input = """
        user_id,email,plan
        p-1,a@example.com,pro
        p-2,not-an-email,free
        p-3,c@example.com,team

        """

    func harness() -> RunnerHarness {
        var harness = RunnerHarness(inputs: ["a.csv": Self.input])
        harness.job.mapping = ColumnMapping(sources: [.externalID: ["user_id"], .applicantEmail: ["email"]])
        return harness
    }

    @Test("output.columns may name input columns; they are copied from the row, on reruns too")
    func passThrough() async throws {
        var harness = harness()
        harness.job.outputColumns = ["external_id", "plan", "session_url", "status"].map(OutputColumn.init(name:))
        harness.job.mapping.passthrough = ["plan"]
        let first = try await harness.run(FakeSessionsAPI())
        #expect(first.exitCode == 1)
        #expect(try harness.outputRows.map { $0["plan"] } == ["pro", "team"])
        let second = try await harness.run(FakeSessionsAPI())
        #expect(second.exitCode == 1)
        #expect(try harness.outputRows.map { $0["plan"] } == ["pro", "team"])
        #expect(try harness.outputRows.map { $0["status"] } == ["existing", "existing"])
    }

    @Test("a pass-through column missing from a CSV header stops the run before anything is sent")
    func missingPassThrough() async throws {
        var harness = harness()
        harness.job.mapping.passthrough = ["region"]
        let api = FakeSessionsAPI()
        await #expect(throws: InputError.self) { _ = try await harness.run(api) }
        #expect(api.requests.isEmpty)
    }

    @Test("the rejects file carries the input's columns; fixed, it can be fed back in")
    func feedBack() async throws {
        var harness = harness()
        let first = try await harness.run(FakeSessionsAPI())
        #expect(first.exitCode == 1)
        let rejects = try harness.rejectRows
        #expect(rejects.count == 1)
        #expect(rejects.first?["user_id"] == "p-2")
        #expect(rejects.first?["email"] == "not-an-email")
        #expect(rejects.first?["plan"] == "free")
        // The operator fixes the address in the rejects file and runs it as the input.
        let fixed = try harness.folder.read(harness.job.rejectsPath).replacingOccurrences(
            of: "not-an-email", with: "b@example.com")
        harness.folder.write("fixed.csv", fixed)
        harness.job.inputs = [harness.folder.path + "/fixed.csv"]
        let report = try await harness.run(FakeSessionsAPI())
        #expect(report.exitCode == 0)
        #expect(try harness.outputRows.map { $0["external_id"] } == ["p-2"])
    }
}

@Suite("Shards")
struct ShardTests {
    @Test("K/N parses for 1 <= K <= N only")
    func parsing() throws {
        let shard = try #require(Shard(parsing: "2/3"))
        #expect(shard.index == 2)
        #expect(shard.count == 3)
        #expect(Shard(parsing: "1/1").map { [$0.index, $0.count] } == [1, 1])
        for bad in ["0/3", "4/3", "1/0", "x/2", "1", "1/2/3"] { #expect(Shard(parsing: bad) == nil) }
    }

    @Test("the hash is FNV-1a 64: fixed across processes and platforms")
    func stableHash() {
        #expect(Shard.hash("") == 0xcbf2_9ce4_8422_2325)
        #expect(Shard.hash("a") == 0xaf63_dc4c_8601_ec8c)
    }

    @Test("every row is in exactly one shard; each shard's run sends only its own rows", arguments: [2, 3])
    func everyRowOnce(count: Int) async throws {
        var seen: [String] = []
        for index in 1...count {
            var harness = RunnerHarness(inputs: ["a.csv": BatchRunnerTests.csv(rows: 100) + "x-bad,not-an-email\n"])
            harness.job.shard = Shard(parsing: "\(index)/\(count)")
            let api = FakeSessionsAPI()
            let report = try await harness.run(api)
            let ids = try harness.outputRows.compactMap { $0["external_id"] }
            #expect(Set(api.requests.map(\.externalID)) == Set(ids))
            #expect(report.otherShards + report.counts.rowsRead == 101)
            seen += ids
        }
        #expect(seen.count == 100)
        #expect(Set(seen) == Set((1...100).map { "u-\($0)" }))
    }
}
