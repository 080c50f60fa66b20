import Foundation
import Testing

@testable import VerilockBatch

/// Planning as a pure function of rows and ledger entries: no SQLite here.
@Suite("Run planner")
struct RunPlannerTests {
    static let template = SessionTemplate(profileID: "7f3c2a10-5d4e-4b8a-9c61-2e0f8d9b3a47")

    static func planner(passthrough: Bool = false, undelivered: Set<Int64> = []) -> RunPlanner {
        RunPlanner(
            template: template, policy: RerunPolicy(), nowEpoch: 1_000_000, undelivered: undelivered,
            paths: ["a.csv", "b.csv"], keepsEveryRecord: passthrough)
    }

    static func row(_ id: String, email: String = "a@example.com") -> Result<ApplicantRow, RowRejection> {
        .success(ApplicantRow(externalID: id, email: email))
    }

    static let created = ApplicantEntry(
        state: .created, generation: 1, expiresEpoch: 2_000_000, runID: 1,
        session: .init(id: "ses_1", url: "https://v/1", expiresAt: "2030-01-01T00:00:00Z"))

    @Test("the first occurrence wins; a row that failed validation claims nothing; the duplicate names the first place")
    func duplicates() {
        let planner = Self.planner()
        var seen = SeenIDs()
        let invalid = planner.plan(
            seq: 0, fileIndex: 0, line: 2, mapped: .failure(RowRejection(externalID: "u-1", message: "bad")),
            entry: nil, record: { "r" })
        #expect(seen.firstPlace(of: "u-1", fileIndex: 0, line: 3) == nil)
        let first = planner.plan(seq: 1, fileIndex: 0, line: 3, mapped: Self.row("u-1"), entry: nil, record: { "r" })
        let again = seen.firstPlace(of: "u-1", fileIndex: 1, line: 7)
        #expect(again == RowPlace(fileIndex: 0, line: 3))
        let second = planner.plan(
            seq: 2, fileIndex: 1, line: 7, mapped: Self.row("u-1"), firstSeen: again, entry: nil, record: { "r" })
        #expect(invalid.outcome == .invalid && invalid.record == "r")
        #expect(first.outcome == .create && first.intent?.generation == 1)
        #expect(second.outcome == .duplicate && second.intent == nil)
        #expect(second.message == "duplicate external_id 'u-1': first seen at a.csv:3")
    }

    @Test("the seen-ids table grows past its first size and still finds every first place")
    func seenIDsGrow() {
        let seed: UInt64 = 0x5EE1_D5
        print("SeenIDs test seed \(seed)")
        var generator = SplitMix64(seed: seed)
        var seen = SeenIDs(capacity: 16)
        var first: [String: RowPlace] = [:]
        for line in 2..<60_000 {
            let id = "u-\(Int.random(in: 0..<40_000, using: &generator))"
            let found = seen.firstPlace(of: id, fileIndex: line % 3, line: line)
            #expect(found == first[id], "id \(id) on line \(line), seed \(seed)")
            if first[id] == nil { first[id] = RowPlace(fileIndex: line % 3, line: line) }
            // Room made early, as the reader does once it knows the input's size.
            if line == 1_000 { seen.reserve(50_000) }
        }
        #expect(first.count > 30_000)
        #expect(InputReader.expectedRows(after: 1_000, bytes: 50_000, of: 5_000_000) == 110_000)
        #expect(InputReader.expectedRows(after: 1_000, bytes: 50_000, of: nil) == 1_000)
        // Short first rows in a huge file: room for at most 2 million ids is made in advance.
        #expect(InputReader.expectedRows(after: 40_000, bytes: 1 << 20, of: 2 << 30) == 2_000_000)
    }

    @Test("ids equal only by Unicode equivalence are two applicants, as in the ledger")
    func canonicalEquivalents() {
        let planner = Self.planner()
        var seen = SeenIDs()
        #expect(seen.firstPlace(of: "jos\u{E9}", fileIndex: 0, line: 2) == nil)
        #expect(seen.firstPlace(of: "jose\u{301}", fileIndex: 0, line: 3) == nil)
        #expect(seen.firstPlace(of: "jose\u{301}", fileIndex: 0, line: 4) == RowPlace(fileIndex: 0, line: 3))
        let composed = planner.plan(
            seq: 0, fileIndex: 0, line: 2, mapped: Self.row("jos\u{E9}"), entry: nil, record: { nil })
        let decomposed = planner.plan(
            seq: 1, fileIndex: 0, line: 3, mapped: Self.row("jose\u{301}"), entry: nil, record: { nil })
        #expect(composed.outcome == .create && decomposed.outcome == .create)
        #expect(composed.intent?.idempotencyKey != decomposed.intent?.idempotencyKey)
        #expect(ExternalIDKey("jos\u{E9}") != ExternalIDKey("jose\u{301}"))
    }

    @Test("an existing row keeps no record (unless columns pass through) and carries its session to the output")
    func existing() {
        let planner = Self.planner()
        let plan = planner.plan(
            seq: 0, fileIndex: 0, line: 2, mapped: Self.row("u-1"), entry: Self.created, record: { "r" })
        #expect(plan.outcome == .existing && !plan.isRecorded && plan.record == nil && plan.intent == nil)
        #expect(plan.session?.url == "https://v/1")
        let passing = Self.planner(passthrough: true)
        #expect(
            passing.plan(seq: 0, fileIndex: 0, line: 2, mapped: Self.row("u-1"), entry: Self.created, record: { "r" })
                .record == "r")
        let undelivered = Self.planner(undelivered: [1])
        let settle = undelivered.plan(
            seq: 0, fileIndex: 0, line: 2, mapped: Self.row("u-1"), entry: Self.created, record: { "r" })
        #expect(settle.outcome == .settle && settle.claim == .delivery && settle.intent == nil)
    }

    @Test("an erased applicant is never sent again and keeps nothing of the input")
    func erased() {
        let planner = Self.planner()
        var entry = Self.created
        entry.session = nil
        entry.erased = true
        entry.expiresEpoch = 10
        let plan = planner.plan(seq: 0, fileIndex: 0, line: 2, mapped: Self.row("u-1"), entry: entry, record: { "r" })
        #expect(plan.outcome == .erased && plan.intent == nil && plan.record == nil && plan.isRecorded)
    }

    @Test(
        "an expired link is reissued as the next generation, replacing its session; a pending one is settled as it was")
    func reissueAndSettle() {
        let planner = Self.planner()
        var expired = Self.created
        expired.expiresEpoch = 999_999
        let reissue = planner.plan(
            seq: 0, fileIndex: 0, line: 2, mapped: Self.row("u-1"), entry: expired, record: { nil })
        #expect(
            reissue.outcome == .reissue && reissue.intent?.generation == 2 && reissue.intent?.replacesSession == true)
        let body = Self.template.requestBody(for: ApplicantRow(externalID: "u-2", email: "a@example.com"))
        let pending = ApplicantEntry(state: .pending, generation: 1, fingerprint: SHA256.hexDigest(body))
        let same = planner.plan(seq: 1, fileIndex: 0, line: 3, mapped: Self.row("u-2"), entry: pending, record: { nil })
        #expect(same.outcome == .settle && same.claim == .pending && same.intent == nil)
        let changed = planner.plan(
            seq: 2, fileIndex: 0, line: 4, mapped: Self.row("u-3", email: "new@example.com"),
            entry: ApplicantEntry(state: .pending, generation: 1, fingerprint: SHA256.hexDigest(body)), record: { nil })
        #expect(changed.outcome == .settleChanged && changed.claim == .pending)
    }

    /// `created`'s session as `sync` last heard it, its link long expired by the clock or not.
    static func synced(_ status: String, decision: String? = nil, expired: Bool) -> ApplicantEntry {
        var entry = created
        entry.expiresEpoch = expired ? 500_000 : 2_000_000
        entry.sessionStatus = status
        entry.decision = decision
        entry.session?.completed = status == "completed"
        return entry
    }

    @Test(
        "reissue knows the outcome: completed never gets a new session, whatever its expiry; declined only under reissue_declined; expired by the API is reissued before the clock says so"
    )
    func reissueKnowsTheOutcome() throws {
        func plan(_ entry: ApplicantEntry, _ policy: RerunPolicy = RerunPolicy()) -> RowPlan {
            RowPlan.plan(entry: entry, fingerprint: { "f" }, nowEpoch: 1_000_000, policy: policy)
        }
        var declinedAgain = RerunPolicy()
        declinedAgain.reissueDeclined = true
        for decision in ["approved", "review", nil] {
            #expect(plan(Self.synced("completed", decision: decision, expired: true)) == .existing)
            #expect(plan(Self.synced("completed", decision: decision, expired: true), declinedAgain) == .existing)
        }
        #expect(plan(Self.synced("completed", decision: "declined", expired: true)) == .existing)
        #expect(
            plan(Self.synced("completed", decision: "declined", expired: false), declinedAgain)
                == .reissue(generation: 2))
        #expect(plan(Self.synced("expired", expired: false)) == .reissue(generation: 2))
        #expect(plan(Self.synced("in_progress", expired: true)) == .reissue(generation: 2))
        #expect(plan(Self.synced("in_progress", expired: false)) == .existing)
        var noReissue = RerunPolicy()
        noReissue.reissueExpired = false
        #expect(plan(Self.synced("expired", expired: false), noReissue) == .expired)
        // The output of a completed applicant's row says so.
        let planner = Self.planner()
        let row = planner.plan(
            seq: 0, fileIndex: 0, line: 2, mapped: Self.row("u-1"),
            entry: Self.synced("completed", decision: "approved", expired: true), record: { "r" })
        #expect(row.outcome == .existing)
        let line = OutputRow.existing(
            seq: 0, fileIndex: 0, line: 2, externalID: "u-1", email: nil, name: nil, session: try #require(row.session),
            record: nil, layout: nil)
        #expect(line.status == .completed)
    }
}
