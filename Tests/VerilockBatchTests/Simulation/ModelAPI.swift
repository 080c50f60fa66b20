import Foundation
import Synchronization

@testable import VerilockBatch

/// An in-memory model of the Verilock API for deterministic simulation: it creates sessions,
/// honours (or ignores) Idempotency-Key, answers lookups (or lacks the endpoint), expires
/// sessions on the ``SimulationClock``, and injects the faults its ``Behaviour`` asks for, each
/// decided by its own seeded dice. It keeps every session it ever made, so a test can compare
/// it with the ledger.
final class ModelAPI: Sendable {
    /// What kind of server this is and how often it misbehaves.
    struct Behaviour: Sendable, CustomStringConvertible {
        var honoursKeys = true
        var hasLookup = true
        /// The lookup endpoint ignores its external_id filter (answers every session).
        var lookupIgnoresFilter = false
        /// The list items carry no session_url (a detail fetch is needed).
        var listWithoutURL = false
        var fail5xxBeforeCommit = 0.0
        var fail5xxAfterCommit = 0.0
        var resetBeforeCommit = 0.0
        var resetAfterCommit = 0.0
        /// The connection drops at once while the server goes on and commits within the timeout.
        var dropWhileInFlight = 0.0
        /// The server commits, but the answer comes after the client's timeout.
        var answerAfterTimeout = 0.0
        /// A 2xx whose body is not a session.
        var unreadableSuccess = 0.0
        /// A 429 burst of 1-3 s starts with this probability per request.
        var rateLimitBurst = 0.0
        var lookupFailure = 0.0

        /// A server that does everything right.
        static let healthy = Behaviour()

        var description: String {
            "keys \(honoursKeys ? "honoured" : "ignored"), lookup \(hasLookup ? (lookupIgnoresFilter ? "ignores filter" : "available") : "missing")"
                + (listWithoutURL ? " (no session_url in lists)" : "")
                + String(
                    format: ", 5xx %.2f/%.2f, resets %.2f/%.2f, in-flight drops %.2f, late answers %.2f, "
                        + "unreadable 2xx %.2f, 429 bursts %.2f, lookup failures %.2f",
                    fail5xxBeforeCommit, fail5xxAfterCommit, resetBeforeCommit, resetAfterCommit, dropWhileInFlight,
                    answerAfterTimeout, unreadableSuccess, rateLimitBurst, lookupFailure)
        }
    }

    /// The fault kinds, for the soak's tally.
    enum Fault: String, CaseIterable, Sendable {
        case fail5xxBeforeCommit = "5xx before commit"
        case fail5xxAfterCommit = "5xx after commit"
        case resetBeforeCommit = "reset before commit"
        case resetAfterCommit = "reset after commit"
        case dropWhileInFlight = "drop while in flight"
        case answerAfterTimeout = "answer after timeout"
        case unreadableSuccess = "unreadable 2xx"
        case rateLimited = "429"
        case lookupFailure = "lookup 5xx"
        case lookupMissing = "lookup 404"
        case lookupUnfiltered = "lookup ignores filter"
        case keyIgnored = "key ignored"
        case replay = "key replay"
        case conflict = "409 in flight"
        case crash = "crash"
        case dataChanged = "data changed"
        case rowsDropped = "rows dropped (carried over)"
        case timePassed = "hours passed (links expire)"
    }

    struct Session: Sendable {
        var id: String
        var externalID: String
        var key: String
        var createdAt: Duration
        var expiresAt: Duration
        var url: String
    }

    private enum KeyRecord {
        case inFlight(body: [UInt8])
        case done(body: [UInt8], sessionIndex: Int)
    }

    private struct State {
        var behaviour: Behaviour
        var dice: SplitMix64
        var sessions: [Session] = []
        var keys: [String: KeyRecord] = [:]
        var rateLimitedUntil = Duration.zero
        var epoch = 0
        var faults: [Fault: Int] = [:]
        var log: [String] = []
    }

    struct Severed: Error, CustomStringConvertible {
        var description: String { "the client is gone (crashed)" }
    }

    struct ConnectionReset: Error, CustomStringConvertible {
        var description: String { "connection reset by peer" }
    }

    struct TimedOut: Error, CustomStringConvertible {
        var description: String { "deadline exceeded" }
    }

    let clock: SimulationClock
    let executor: SimulationExecutor
    let timeout: Duration
    let epoch0 = Date(timeIntervalSince1970: 1_800_000_000)
    private let state: Mutex<State>

    init(seed: UInt64, clock: SimulationClock, executor: SimulationExecutor, timeout: Duration) {
        self.clock = clock
        self.executor = executor
        self.timeout = timeout
        state = Mutex(State(behaviour: .healthy, dice: SplitMix64(seed: seed ^ 0xA5A5_5A5A)))
    }

    /// The server's behaviour from now on.
    func behave(_ behaviour: Behaviour) { state.withLock { $0.behaviour = behaviour } }

    /// A client for one run; it stops working when ``sever()`` is called (the run crashed).
    func client() -> Client { Client(model: self, epoch: state.withLock { $0.epoch }) }

    /// Cuts every client made so far off: their requests still in progress on the server go on,
    /// but their answers are lost.
    func sever() { state.withLock { $0.epoch += 1 } }

    var sessions: [Session] { state.withLock { $0.sessions } }
    var faults: [Fault: Int] { state.withLock { $0.faults } }
    var log: [String] { state.withLock { $0.log } }

    func note(_ fault: Fault, _ text: String) {
        let time = clock.seconds
        state.withLock { state in
            state.faults[fault, default: 0] += 1
            state.log.append(String(format: "t=%.3f ", time) + "\(fault.rawValue): \(text)")
        }
    }

    /// The wall time the model's clock stands for.
    func date(_ offset: Duration) -> Date {
        let (seconds, atto) = offset.components
        return epoch0.addingTimeInterval(Double(seconds) + Double(atto) / 1e18)
    }

    private func roll(_ body: (inout SplitMix64, Behaviour) -> Fault?) -> Fault? {
        state.withLock { state in body(&state.dice, state.behaviour) }
    }

    private func latency() async throws {
        let millis = state.withLock { Int64.random(in: 5...60, using: &$0.dice) }
        try await clock.sleep(for: .milliseconds(millis), tolerance: nil)
    }

    private func check(_ epoch: Int) throws {
        if state.withLock({ $0.epoch }) != epoch { throw Severed() }
    }

    private func rateLimited() -> APIResponse? {
        let now = clock.now.offset
        let limited = state.withLock { state -> Duration? in
            if state.rateLimitedUntil > now { return state.rateLimitedUntil - now }
            if state.dice.chance(state.behaviour.rateLimitBurst) {
                state.rateLimitedUntil = now + .milliseconds(Int64.random(in: 1000...3000, using: &state.dice))
                return state.rateLimitedUntil - now
            }
            return nil
        }
        guard let limited else { return nil }
        note(.rateLimited, "for \(limited)")
        let seconds = max(1, Int(limited.components.seconds) + 1)
        return APIResponse(
            status: 429, requestID: "req_429", retryAfter: String(seconds),
            body: Array(#"{"error":"rate_limited","message":"slow down","details":null}"#.utf8))
    }

    private func commit(_ request: CreateSessionRequest) -> Session {
        let now = clock.now.offset
        struct Body: Decodable {
            var expiresIn: Int?
            enum CodingKeys: String, CodingKey { case expiresIn = "expires_in" }
        }
        let expiresIn = (try? JSONDecoder().decode(Body.self, from: Data(request.body)))?.expiresIn ?? 3600
        return state.withLock { state in
            let id = "ses_\(state.sessions.count + 1)"
            let session = Session(
                id: id, externalID: request.externalID, key: request.idempotencyKey, createdAt: now,
                expiresAt: now + .seconds(expiresIn), url: "https://verify.example/s/\(id)")
            state.sessions.append(session)
            if state.behaviour.honoursKeys {
                state.keys[request.idempotencyKey] = .done(body: request.body, sessionIndex: state.sessions.count - 1)
            }
            return session
        }
    }

    private func answer(_ session: Session, status: Int = 201) -> APIResponse {
        let expires = Timestamp.string(date(session.expiresAt))
        let body = """
            {"id":"\(session.id)","session_token":"tok_\(session.id)","session_url":"\(session.url)",\
            "status":"created","expires_at":"\(expires)"}
            """
        return APIResponse(status: status, requestID: "req_\(session.id)", body: Array(body.utf8))
    }

    private static func error(_ status: Int, _ code: String) -> APIResponse {
        APIResponse(
            status: status, requestID: "req_\(status)",
            body: Array(#"{"error":"\#(code)","message":"simulated","details":null}"#.utf8))
    }

    func createSession(_ request: CreateSessionRequest, epoch: Int) async throws -> APIResponse {
        try await latency()
        try check(epoch)
        if let limited = rateLimited() { return limited }
        let fault = roll { dice, behaviour in
            let roll = Double.random(in: 0..<1, using: &dice)
            let table: [(Fault, Double)] = [
                (.fail5xxBeforeCommit, behaviour.fail5xxBeforeCommit),
                (.resetBeforeCommit, behaviour.resetBeforeCommit),
                (.fail5xxAfterCommit, behaviour.fail5xxAfterCommit), (.resetAfterCommit, behaviour.resetAfterCommit),
                (.dropWhileInFlight, behaviour.dropWhileInFlight), (.answerAfterTimeout, behaviour.answerAfterTimeout),
                (.unreadableSuccess, behaviour.unreadableSuccess),
            ]
            var threshold = 0.0
            for (fault, rate) in table {
                threshold += rate
                if roll < threshold { return fault }
            }
            return nil
        }
        let id = request.externalID
        switch fault {
        case .fail5xxBeforeCommit?:
            note(.fail5xxBeforeCommit, id)
            return Self.error(500, "internal_error")
        case .resetBeforeCommit?:
            note(.resetBeforeCommit, id)
            throw ConnectionReset()
        default: break
        }
        // Idempotency, if honoured.
        let record = state.withLock { state -> KeyRecord? in
            guard state.behaviour.honoursKeys else { return nil }
            return state.keys[request.idempotencyKey]
        }
        switch record {
        case .inFlight?:
            note(.conflict, id)
            return Self.error(409, "conflict")
        case .done(let body, let index)?:
            guard body == request.body else { return Self.error(422, "idempotency_key_reused") }
            note(.replay, id)
            let session = state.withLock { $0.sessions[index] }
            return answer(session)
        case nil:
            if !state.withLock({ $0.behaviour.honoursKeys }),
                state.withLock({ state in state.sessions.contains { $0.key == request.idempotencyKey } })
            {
                note(.keyIgnored, "\(id): a second create with key \(request.idempotencyKey)")
            }
        }
        // Up to 3.5 s: past the client's 2 s timeout, within the job's 4 s server_timeout.
        let processing = state.withLock { state in
            Duration.milliseconds(Int64.random(in: 50...3500, using: &state.dice))
        }
        switch fault {
        case .dropWhileInFlight?:
            note(.dropWhileInFlight, "\(id) commits in \(processing)")
            markInFlight(request)
            Task(executorPreference: executor) {
                try? await self.clock.sleep(for: processing, tolerance: nil)
                _ = self.commit(request)
            }
            throw ConnectionReset()
        case .answerAfterTimeout?:
            note(.answerAfterTimeout, "\(id) commits in \(processing)")
            markInFlight(request)
            // The client gives up at its timeout; the server commits when it is done, maybe later.
            Task(executorPreference: executor) {
                try? await self.clock.sleep(for: processing, tolerance: nil)
                _ = self.commit(request)
            }
            try? await clock.sleep(for: timeout, tolerance: nil)
            throw TimedOut()
        default: break
        }
        let session = commit(request)
        try check(epoch)
        switch fault {
        case .fail5xxAfterCommit?:
            note(.fail5xxAfterCommit, id)
            return Self.error(502, "bad_gateway")
        case .resetAfterCommit?:
            note(.resetAfterCommit, id)
            throw ConnectionReset()
        case .unreadableSuccess?:
            note(.unreadableSuccess, id)
            let bodies = [#"{"id":"\#(session.id)","session_url":""}"#, "<html>ok</html>", #"{"data":null}"#]
            let index = state.withLock { Int.random(in: 0..<bodies.count, using: &$0.dice) }
            return APIResponse(status: 201, requestID: "req_\(session.id)", body: Array(bodies[index].utf8))
        default:
            return answer(session)
        }
    }

    private func markInFlight(_ request: CreateSessionRequest) {
        state.withLock { state in
            if state.behaviour.honoursKeys { state.keys[request.idempotencyKey] = .inFlight(body: request.body) }
        }
    }

    func listSessions(externalID: String, page: Int, epoch: Int) async throws -> APIResponse {
        try await latency()
        try check(epoch)
        if let limited = rateLimited() { return limited }
        let behaviour = state.withLock { $0.behaviour }
        guard behaviour.hasLookup else {
            note(.lookupMissing, externalID)
            return Self.error(404, "not_found")
        }
        if state.withLock({ $0.dice.chance(behaviour.lookupFailure) }) {
            note(.lookupFailure, externalID)
            return Self.error(503, "unavailable")
        }
        let now = clock.now.offset
        var matching = sessions.filter { behaviour.lookupIgnoresFilter || $0.externalID == externalID }
        if behaviour.lookupIgnoresFilter && matching.contains(where: { $0.externalID != externalID }) {
            note(.lookupUnfiltered, externalID)
        }
        matching = Array(matching.dropFirst((page - 1) * 100).prefix(100))
        let items = matching.map { session in
            let status = session.expiresAt <= now ? "expired" : "created"
            let url = behaviour.listWithoutURL ? "" : #","session_url":"\#(session.url)""#
            return #"{"id":"\#(session.id)","external_id":"\#(session.externalID)","status":"\#(status)","#
                + #""expires_at":"\#(Timestamp.string(date(session.expiresAt)))"\#(url)}"#
        }
        return APIResponse(
            status: 200, requestID: "req_list",
            body: Array(#"{"data":[\#(items.joined(separator: ","))],"meta":{"current_page":\#(page)}}"#.utf8))
    }

    func session(id: String, epoch: Int) async throws -> APIResponse {
        try await latency()
        try check(epoch)
        if let limited = rateLimited() { return limited }
        guard let session = sessions.first(where: { $0.id == id }) else { return Self.error(404, "not_found") }
        return answer(session, status: 200)
    }

    /// One run's view of the model.
    struct Client: SessionsAPI {
        let model: ModelAPI
        let epoch: Int

        func createSession(_ request: CreateSessionRequest) async throws -> APIResponse {
            try await model.createSession(request, epoch: epoch)
        }

        func listSessions(_ request: SessionListRequest) async throws -> APIResponse {
            try await model.listSessions(externalID: request.externalID ?? "", page: request.page, epoch: epoch)
        }

        func session(id: String) async throws -> APIResponse {
            try await model.session(id: id, epoch: epoch)
        }
    }
}
