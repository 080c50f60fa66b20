import Foundation

/// A session the simulator created, and what its applicant does with it.
struct SimulatedSession: Sendable {
    var id: String
    var token: String
    var url: String
    var externalID: String?
    var applicantName: String?
    var profileID: String
    var createdAt: Date
    var expiresAt: Date
    /// The applicant's story, rolled when the session was made.
    var story = SessionStory()
    /// A status set through `POST /_admin/sessions/{id}`, with its decision and when it was
    /// set; it wins over the story (an unfinished one until the link expires).
    var forced: (status: SessionStatus, decision: SessionDecision?, at: Date)?

    /// The session's status at `now`, its decision and when it completed.
    func state(at now: Date) -> (status: SessionStatus, decision: SessionDecision?, completedAt: Date?) {
        if let forced {
            switch forced.status {
            case .completed: return (.completed, forced.decision, forced.at)
            case .expired: return (.expired, nil, nil)
            case .created, .inProgress, .processing:
                // An unfinished session still dies with its link.
                return expiresAt <= now ? (.expired, nil, nil) : (forced.status, nil, nil)
            }
        }
        if let completed = story.completedAt, completed <= now { return (.completed, story.decision, completed) }
        if expiresAt <= now { return (.expired, nil, nil) }
        if let submitted = story.submittedAt, submitted <= now { return (.processing, nil, nil) }
        if let started = story.startedAt, started <= now { return (.inProgress, nil, nil) }
        return (.created, nil, nil)
    }
}
