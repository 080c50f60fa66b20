/// A session's status, as the API reports it.
public enum SessionStatus: String, Sendable, CaseIterable, Codable {
    case created
    case inProgress = "in_progress"
    case processing
    case completed
    case expired
}

/// A completed session's decision.
public enum SessionDecision: String, Sendable, CaseIterable, Codable {
    case approved
    case declined
    case review
}
