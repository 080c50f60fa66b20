import Foundation
import GRDB
import Testing

@testable import VerilockBatch

@Suite("Retention")
struct RetentionTests {
    static let day: TimeInterval = 86_400
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func csv(_ ids: ClosedRange<Int>) -> String {
        "external_id,applicant_email,applicant_name,plan\n"
            + ids.map { "r-\($0),private.person\($0)@example.com,Privatus Personne\($0),gold" }.joined(separator: "\n")
            + "\n"
    }

    /// Every byte of the ledger and its WAL, as text for searching.
    static func ledgerBytes(_ path: String) throws -> String {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        if let wal = try? Data(contentsOf: URL(fileURLWithPath: path + "-wal")) { bytes.append(wal) }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test(
        "after the period, no e-mail, name, token or link of an ended applicant is in the ledger's bytes; a rerun sends nothing for them"
    )
    func redaction() async throws {
        var harness = RunnerHarness(inputs: ["a.csv": Self.csv(1...40)])
        harness.job.retention = RetentionPolicy(runs: .seconds(7 * 86_400), personalData: .seconds(180 * 86_400))
        // Links that die a day after they are made; later runs do not read r-1...r-40 again.
        let api = FakeSessionsAPI { request, _ in
            FakeSessionsAPI.created(request, expiresAt: Timestamp.string(Self.start.addingTimeInterval(Self.day)))
        }
        #expect(try await harness.run(api, now: Self.start).counts.created == 40)
        let urls = try harness.outputRows.compactMap { $0["session_url"] }
        #expect(urls.count == 40)
        let ledgerPath = harness.job.ledgerPath
        let before = try Self.ledgerBytes(ledgerPath)
        #expect(before.contains("private.person7@example.com") && before.contains(urls[6]))

        // 100 days on, nothing is due; 181 days after the links ended, everything is.
        let ledger = try SQLiteLedger(path: ledgerPath)
        let early = try await ledger.prune(
            retention: harness.job.retention, now: Self.start.addingTimeInterval(100 * Self.day))
        #expect(early.applicantsErased == 0 && early.runRows == 40)
        let report = try await ledger.prune(
            retention: harness.job.retention, now: Self.start.addingTimeInterval(182 * Self.day))
        #expect(report.applicantsErased == 40)
        let after = try Self.ledgerBytes(ledgerPath)
        let needles = ["private.person", "Privatus", "Personne", "tok_", "verilock.io/verify"] + urls
        #expect(needles.filter { after.contains($0) } == [])

        // The original input again: nothing is sent, and the rows say why.
        let later = FakeSessionsAPI()
        let rerun = try await harness.run(later, now: Self.start.addingTimeInterval(183 * Self.day))
        #expect(later.requests.isEmpty)
        #expect(rerun.counts.erased == 40)
        #expect(rerun.exitCode == 0)
        #expect(try harness.outputRows.isEmpty)
        let rejects = try harness.rejectRows
        #expect(rejects.count == 40 && rejects.allSatisfy { $0["reason"] == "erased" })
        let final = try Self.ledgerBytes(ledgerPath)
        #expect(needles.filter { final.contains($0) } == [])
        let status = try await SQLiteLedger(path: ledgerPath).status(now: Self.start.addingTimeInterval(183 * Self.day))
        #expect(status.erased == 40 && status.oldestPersonalData == nil)
    }

    @Test("30 nightly no-op reruns with retention.runs 7d: the ledger is no bigger after the 30th than after the 8th")
    func boundedHistory() async throws {
        var harness = RunnerHarness(inputs: ["a.csv": Self.csv(1...3000)])
        harness.job.retention = RetentionPolicy(runs: .seconds(7 * 86_400))
        // One row that is rejected every night keeps a history row per run.
        harness.folder.write("a.csv", Self.csv(1...3000) + "bad id with spaces\u{1},x@example.com,X,gold\n")
        _ = try await harness.run(FakeSessionsAPI(), now: Self.start)
        var sizes: [Int64] = []
        for night in 1...30 {
            let report = try await harness.run(
                FakeSessionsAPI(), now: Self.start.addingTimeInterval(Double(night) * Self.day))
            #expect(report.counts.existing == 3000)
            let pages = try SQLiteLedger(path: harness.job.ledgerPath).read { db in
                try Int64.fetchOne(db, sql: "SELECT page_count FROM pragma_page_count()") ?? 0
            }
            sizes.append(pages)
        }
        print("retention: ledger pages after each night: \(sizes)")
        #expect(sizes[29] <= sizes[7])
        let runs = try SQLiteLedger(path: harness.job.ledgerPath).read { db in
            try Int.fetchOne(db, sql: "SELECT count(DISTINCT run_id) FROM run_row") ?? 0
        }
        #expect(runs <= 9)
    }

    @Test("a pending create keeps its history row through a prune, so the next run still carries it over")
    func pendingSurvives() async throws {
        var harness = RunnerHarness(inputs: ["a.csv": Self.csv(1...2)])
        harness.job.retention = RetentionPolicy(runs: .seconds(86_400))
        let api = FakeSessionsAPI { request, _ in
            request.externalID == "r-2" ? APIResponse(status: 503, body: []) : FakeSessionsAPI.created(request)
        }
        harness.job.api.maxAttempts = 1
        let first = try await harness.run(api, now: Self.start)
        #expect(first.counts.pending == 1)
        let ledger = try SQLiteLedger(path: harness.job.ledgerPath)
        let pruned = try await ledger.prune(
            retention: harness.job.retention, now: Self.start.addingTimeInterval(10 * Self.day))
        #expect(pruned.runRows == 1)
        harness.folder.write("a.csv", "external_id,applicant_email,applicant_name,plan\n")
        let later = FakeSessionsAPI()
        let second = try await harness.run(later, now: Self.start.addingTimeInterval(11 * Self.day))
        #expect(later.requests.map(\.externalID) == ["r-2"])
        #expect(second.counts.carriedOver == 1)
        let output = try harness.outputRows
        #expect(output.map { $0["external_id"] } == ["r-2"])
    }
}
