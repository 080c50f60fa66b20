import Foundation

/// What an applicant does with one session, on the simulator's clock: when they open the link,
/// submit, and complete it with a decision (nil: they never do).
struct SessionStory: Sendable, Equatable {
    var startedAt: Date?
    var submittedAt: Date?
    var completedAt: Date?
    var decision: SessionDecision?
}
