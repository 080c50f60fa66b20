/// The rows of a run by what became of them.
public struct RunCounts: Sendable, Equatable, Codable {
    public var rowsRead = 0
    public var created = 0
    public var reissued = 0
    public var existing = 0
    public var invalid = 0
    public var duplicate = 0
    public var failed = 0
    public var expired = 0
    public var pending = 0
    /// Rows not in this run's input, pending from an earlier run, settled in this one; they are
    /// in the output or rejects too, but not in ``rowsRead``.
    public var carriedOver = 0
    /// Rows whose applicant's personal data retention erased (never sent again); they are in
    /// the rejects file, and do not fail the run.
    public var erased = 0
    public var requests = 0
    public var retries = 0
    public var rateLimited = 0
    public var statuses: [String: Int] = [:]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func count(_ key: CodingKeys) throws -> Int { try container.decodeIfPresent(Int.self, forKey: key) ?? 0 }
        rowsRead = try count(.rowsRead)
        created = try count(.created)
        reissued = try count(.reissued)
        existing = try count(.existing)
        invalid = try count(.invalid)
        duplicate = try count(.duplicate)
        failed = try count(.failed)
        expired = try count(.expired)
        pending = try count(.pending)
        carriedOver = try count(.carriedOver)
        erased = try count(.erased)
        requests = try count(.requests)
        retries = try count(.retries)
        rateLimited = try count(.rateLimited)
        statuses = try container.decodeIfPresent([String: Int].self, forKey: .statuses) ?? [:]
    }

    /// Rows that ended without a session, erased ones not counted.
    public var rejected: Int { invalid + duplicate + failed + expired + pending }
    /// Rows that have a session.
    public var withSession: Int { created + reissued + existing }

    public init() {}
}
