import Foundation

/// How the simulator's applicants act on their links, on the simulator's clock: what share
/// opens the link, what share of those completes before it expires, and the decisions. Every
/// roll is seeded by the seed and the session's external_id and generation, so a session's
/// story does not depend on the order creates arrive in.
public struct ApplicantBehaviour: Sendable, Equatable {
    /// The share of sessions whose applicant opens the link before it expires.
    public var progressRate: Double
    /// The share of those who opened it that complete before it expires.
    public var completeRate: Double
    /// The decisions of completed sessions, with their weights.
    public var decisions: [SessionDecision: Double]
    /// The seed of the rolls.
    public var seed: UInt64

    /// Applicants who do nothing unless told (`progressRate` 0).
    public init(
        progressRate: Double = 0,
        completeRate: Double = 0,
        decisions: [SessionDecision: Double] = [.approved: 0.8, .declined: 0.1, .review: 0.1],
        seed: UInt64 = 1
    ) {
        self.progressRate = progressRate
        self.completeRate = completeRate
        self.decisions = decisions
        self.seed = seed
    }

    /// Decisions written as `approved=0.8,declined=0.1,review=0.1`; nil for anything else
    /// (an unknown decision, a negative or missing weight, all weights zero).
    public static func decisions(parsing text: String) -> [SessionDecision: Double]? {
        var result: [SessionDecision: Double] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, let decision = SessionDecision(rawValue: pair[0]), let weight = Double(pair[1]),
                weight >= 0, weight.isFinite, result[decision] == nil
            else { return nil }
            result[decision] = weight
        }
        return result.values.reduce(0, +) > 0 ? result : nil
    }

    /// The story of a session created at `created`, expiring at `expires`, for generation
    /// `generation` of `externalID`.
    func story(externalID: String?, generation: Int, created: Date, expires: Date) -> SessionStory {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in (externalID ?? "").utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0100_0000_01B3
        }
        var dice = SplitMix64(seed: seed ^ hash ^ (UInt64(generation) &* 0x9E37_79B9_7F4A_7C15))
        func roll() -> Double { Double(dice.next() >> 11) / Double(1 << 53) }
        let life = expires.timeIntervalSince(created)
        var story = SessionStory()
        guard roll() < progressRate else { return story }
        let start = created.addingTimeInterval(life * 0.5 * roll())
        story.startedAt = start
        guard roll() < completeRate else { return story }
        let completed = start.addingTimeInterval(expires.timeIntervalSince(start) * 0.9 * roll())
        story.submittedAt = start.addingTimeInterval(completed.timeIntervalSince(start) * 0.8)
        story.completedAt = completed
        let total = decisions.values.reduce(0, +)
        var pick = roll() * total
        story.decision = .approved
        for decision in SessionDecision.allCases {
            let weight = decisions[decision] ?? 0
            if weight > 0 && pick < weight {
                story.decision = decision
                break
            }
            pick -= weight
        }
        return story
    }
}
