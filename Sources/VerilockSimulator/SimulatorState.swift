import Foundation

/// Counts the admin route reports.
public struct SimulatorStats: Sendable, Equatable, Codable {
    /// Requests received on the API routes.
    public var requests = 0
    /// Sessions created.
    public var sessionsCreated = 0
    /// Answers replayed for a repeated Idempotency-Key.
    public var idempotentReplays = 0
    /// 429 answers.
    public var rateLimited = 0
    /// 401 answers.
    public var unauthorized = 0
    /// 422 answers.
    public var validationErrors = 0
    /// 404 answers for unknown profiles.
    public var unknownProfiles = 0
    /// 409 answers (same key in flight).
    public var conflicts = 0
    /// 5xx answers injected.
    public var failuresInjected = 0
    /// Connections dropped before the session was created.
    public var resetsBeforeCommit = 0
    /// Connections dropped after the session was created.
    public var resetsAfterCommit = 0
    /// Answers delayed past the client's timeout.
    public var slowAnswers = 0
    /// `GET /sessions` requests.
    public var lookups = 0
    /// external_ids that got more than one session, with their count.
    public var duplicates: [String: Int] = [:]
    /// Answers by second since the simulator started, then by HTTP status ("0": connection dropped).
    public var timeline: [String: [String: Int]] = [:]

    enum CodingKeys: String, CodingKey {
        case requests
        case sessionsCreated = "sessions_created"
        case idempotentReplays = "idempotent_replays"
        case rateLimited = "rate_limited"
        case unauthorized
        case validationErrors = "validation_errors"
        case unknownProfiles = "unknown_profiles"
        case conflicts
        case failuresInjected = "failures_injected"
        case resetsBeforeCommit = "resets_before_commit"
        case resetsAfterCommit = "resets_after_commit"
        case slowAnswers = "slow_answers"
        case lookups
        case duplicates
        case timeline
    }
}

/// The simulator's memory: sessions, idempotency records, rate-limit windows, counters.
/// Every decision is made inside one actor call, so concurrent requests see a consistent state.
public actor SimulatorState {
    private enum IdempotencyRecord {
        case inFlight(bodyHash: Int)
        case done(bodyHash: Int, response: SimulatedResponse)
    }

    /// A create accepted for processing (after auth, rate limit and idempotency checks).
    struct Ticket: Sendable {
        var key: String?
        var bodyHash: Int
        var input: CreateSessionInput
    }

    /// How a create goes on after its checks: answered at once, or processed after the latency.
    enum CreateStart: Sendable {
        case answer(SimulatedResponse)
        case ticket(Ticket)
    }

    let configuration: SimulatorConfiguration
    private var sessions: [String: SimulatedSession] = [:]
    private var sessionsByExternalID: [String: [String]] = [:]
    /// Session ids in the order they were created: the list's order.
    private var order: [String] = []
    private var idempotency: [String: IdempotencyRecord] = [:]
    private var windows: [String: (index: Int64, count: Int)] = [:]
    private var clockOffset: TimeInterval = 0
    private var dice: SplitMix64
    private let started = Date()
    private(set) var stats = SimulatorStats()

    /// Fresh state for `configuration`.
    public init(configuration: SimulatorConfiguration) {
        self.configuration = configuration
        self.dice = SplitMix64(seed: configuration.faults.seed)
    }

    /// Counts an answer of the API routes in the timeline.
    func recordAnswer(status: Int) {
        let second = String(Int(Date().timeIntervalSince(started)))
        stats.timeline[second, default: [:]][String(status), default: 0] += 1
    }

    /// Rolls the fault dice for one create and counts what it injects.
    func rollFault() -> FaultInjection.Fault {
        let faults = configuration.faults
        let roll = Double.random(in: 0..<1, using: &dice)
        var threshold = faults.failRate
        if roll < threshold {
            stats.failuresInjected += 1
            let statuses = [500, 502, 503]
            return .fail(status: statuses[Int(dice.next() % 3)], html: dice.next() % 2 == 0)
        }
        threshold += faults.resetBeforeCommitRate
        if roll < threshold {
            stats.resetsBeforeCommit += 1
            return .resetBeforeCommit
        }
        threshold += faults.resetAfterCommitRate
        if roll < threshold {
            stats.resetsAfterCommit += 1
            return .resetAfterCommit
        }
        threshold += faults.slowRate
        if roll < threshold {
            stats.slowAnswers += 1
            return .slow
        }
        return .none
    }

    /// The simulator's clock: the wall clock plus any advance made through the admin route.
    var now: Date { Date().addingTimeInterval(clockOffset) }

    /// The clock sessions live on: ``now``, or, with ``SimulatorConfiguration/frozenClock``, the
    /// start plus the admin route's advances only, so tests see no status change they did not
    /// make.
    var sessionNow: Date {
        configuration.frozenClock ? started.addingTimeInterval(clockOffset) : now
    }

    /// Moves the simulator's clock forward (to expire sessions in tests).
    public func advanceClock(by seconds: TimeInterval) {
        clockOffset += seconds
    }

    /// The counters, with duplicates computed from the sessions held.
    public func currentStats() -> SimulatorStats {
        var result = stats
        result.duplicates = sessionsByExternalID.filter { $0.value.count > 1 }.mapValues(\.count)
        return result
    }

    /// Number of sessions held.
    public var sessionCount: Int { sessions.count }

    /// Checks the key and the rate limit; returns an error response, or nil with the headers to add.
    func admit(authorization: String?) -> (SimulatedResponse?, [String: String]) {
        stats.requests += 1
        guard let authorization, authorization.hasPrefix("Bearer "),
            configuration.apiKeys.contains(String(authorization.dropFirst(7)))
        else {
            stats.unauthorized += 1
            return (.error(401, "unauthorized", "Invalid or missing API key"), [:])
        }
        let key = String(authorization.dropFirst(7))
        let window = Int64(now.timeIntervalSince1970) / Int64(configuration.windowSeconds)
        var current = windows[key] ?? (window, 0)
        if current.index != window { current = (window, 0) }
        let limit = configuration.requestsPerWindow
        if current.count >= limit {
            stats.rateLimited += 1
            let windowEnd = Double((window + 1) * Int64(configuration.windowSeconds))
            let retryAfter = max(1, Int((windowEnd - now.timeIntervalSince1970).rounded(.up)))
            let headers = [
                "X-RateLimit-Limit": String(configuration.rateLimitPerMinute), "X-RateLimit-Remaining": "0",
                "Retry-After": String(retryAfter),
            ]
            return (
                .error(
                    429, "rate_limit_exceeded", "Too many requests", details: ["retry_after": retryAfter],
                    headers: headers),
                headers
            )
        }
        current.count += 1
        windows[key] = current
        return (
            nil,
            [
                "X-RateLimit-Limit": String(configuration.rateLimitPerMinute),
                "X-RateLimit-Remaining": String(limit - current.count),
            ]
        )
    }

    /// Starts a create: idempotency checks and body parsing. Returns a response to send now
    /// (replay, 409, 422, 400), or a ticket to finish after the simulated latency.
    func begin(idempotencyKey: String?, body: [UInt8]) -> CreateStart {
        var hasher = Hasher()
        hasher.combine(body)
        let bodyHash = hasher.finalize()
        let idempotencyKey = configuration.idempotency ? idempotencyKey : nil
        if let key = idempotencyKey {
            switch idempotency[key] {
            case .inFlight(let hash) where hash == bodyHash:
                stats.conflicts += 1
                return .answer(.error(409, "conflict", "A request with this Idempotency-Key is still in progress"))
            case .done(let hash, var response) where hash == bodyHash:
                stats.idempotentReplays += 1
                response.headers["Idempotent-Replayed"] = "true"
                return .answer(response)
            case .inFlight, .done:
                stats.validationErrors += 1
                return .answer(
                    .error(
                        422, "idempotency_key_reused",
                        "This Idempotency-Key was used with a different request body")
                )
            case nil:
                idempotency[key] = .inFlight(bodyHash: bodyHash)
            }
        }
        let input: CreateSessionInput
        do {
            input = try JSONDecoder().decode(CreateSessionInput.self, from: Data(body))
        } catch {
            return .answer(
                finish(
                    key: idempotencyKey, bodyHash: bodyHash,
                    response: .error(400, "bad_request", "The request body is not a JSON object")))
        }
        return .ticket(Ticket(key: idempotencyKey, bodyHash: bodyHash, input: input))
    }

    /// Finishes a create after the latency: validation, then the session.
    func complete(_ ticket: Ticket) -> SimulatedResponse {
        let input = ticket.input
        let errors = input.validate()
        if !errors.isEmpty {
            stats.validationErrors += 1
            return finish(
                key: ticket.key, bodyHash: ticket.bodyHash,
                response: .error(422, "validation_error", "The request is invalid", details: errors)
            )
        }
        let profile = (input.profileID ?? "").lowercased()
        if !configuration.profiles.isEmpty && !configuration.profiles.contains(profile) {
            stats.unknownProfiles += 1
            return finish(
                key: ticket.key, bodyHash: ticket.bodyHash,
                response: .error(404, "not_found", "Verification profile \(profile) not found")
            )
        }
        let token = "tok_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let created = sessionNow
        var session = SimulatedSession(
            id: "ses_" + UUID().uuidString.lowercased(),
            token: token,
            url: configuration.verifyBaseURL + token,
            externalID: input.externalID,
            applicantName: input.applicantName,
            profileID: profile,
            createdAt: created,
            expiresAt: created.addingTimeInterval(TimeInterval(input.expiresIn ?? 3600))
        )
        session.story = configuration.applicants.story(
            externalID: input.externalID,
            generation: input.externalID.map { sessionsByExternalID[$0]?.count ?? 0 } ?? 0,
            created: created, expires: session.expiresAt)
        sessions[session.id] = session
        order.append(session.id)
        if let externalID = input.externalID { sessionsByExternalID[externalID, default: []].append(session.id) }
        stats.sessionsCreated += 1
        return finish(key: ticket.key, bodyHash: ticket.bodyHash, response: .json(201, detail(session)))
    }

    private func finish(key: String?, bodyHash: Int, response: SimulatedResponse) -> SimulatedResponse {
        if let key { idempotency[key] = .done(bodyHash: bodyHash, response: response) }
        return response
    }

    /// The create's answer.
    private func detail(_ session: SimulatedSession) -> [String: Any] {
        [
            "id": session.id,
            "session_token": session.token,
            "session_url": session.url,
            "status": session.state(at: sessionNow).status.rawValue,
            "expires_at": Self.timestamp(session.expiresAt),
        ]
    }

    /// A list item: what the official SDK's `SessionListItem` reads (no link, no token).
    private func item(_ session: SimulatedSession) -> [String: Any] {
        let state = session.state(at: sessionNow)
        return [
            "id": session.id,
            "external_id": session.externalID.map { $0 as Any } ?? NSNull(),
            "status": state.status.rawValue,
            "decision": state.decision.map { $0.rawValue as Any } ?? NSNull(),
            "risk_score": state.decision.map { decision -> Any in decision == .approved ? 0.1 : 0.7 } ?? NSNull(),
            "applicant_name": session.applicantName.map { $0 as Any } ?? NSNull(),
            "created_at": Self.timestamp(session.createdAt),
            "completed_at": state.completedAt.map { Self.timestamp($0) as Any } ?? NSNull(),
            "expires_at": Self.timestamp(session.expiresAt),
        ]
    }

    static func timestamp(_ date: Date) -> String { date.formatted(Date.ISO8601FormatStyle()) }

    /// `GET /sessions`: list items in creation order, filtered by every parameter the official
    /// SDK sends (`status`, `decision`, `external_id`, `from` and `to` on the creation date),
    /// `per_page` at most 100 (default 20), with `meta` as the SDK reads it.
    func list(_ query: SessionListQuery) -> SimulatedResponse {
        stats.lookups += 1
        let now = sessionNow
        var ids = order
        if let externalID = query.externalID, configuration.lookupFilter {
            ids = sessionsByExternalID[externalID] ?? []
        }
        let matching = ids.compactMap { sessions[$0] }.filter { session in
            if let from = query.from, session.createdAt < from { return false }
            if let to = query.to, session.createdAt >= to { return false }
            guard query.status != nil || query.decision != nil else { return true }
            let state = session.state(at: now)
            if let status = query.status, state.status != status { return false }
            if let decision = query.decision, state.decision != decision { return false }
            return true
        }
        let lastPage = max(1, (matching.count + query.perPage - 1) / query.perPage)
        let items = matching.dropFirst((query.page - 1) * query.perPage).prefix(query.perPage).map(item)
        return .json(
            200,
            [
                "data": items,
                "meta": [
                    "current_page": query.page, "last_page": lastPage, "per_page": query.perPage,
                    "total": matching.count,
                ],
            ])
    }

    /// `GET /sessions/{id}`: the list item, with the link and the parts the SDK's `Session`
    /// adds (the simulator has no documents, selfie or screening to show).
    func session(id: String) -> SimulatedResponse {
        guard let session = sessions[id] else { return .error(404, "not_found", "Session \(id) not found") }
        var body = item(session)
        body["session_url"] = session.url
        body["decline_reason"] = NSNull()
        body["documents"] = [Any]()
        body["selfie"] = NSNull()
        body["aml_screening"] = NSNull()
        return .json(200, body)
    }

    /// `POST /_admin/sessions/{id}`: sets a session's status and decision, for tests.
    func force(id: String, status: SessionStatus, decision: SessionDecision?) -> SimulatedResponse {
        guard var session = sessions[id] else { return .error(404, "not_found", "Session \(id) not found") }
        session.forced = (status, status == .completed ? decision : nil, sessionNow)
        sessions[id] = session
        return .json(200, item(session))
    }
}
