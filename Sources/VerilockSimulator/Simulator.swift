import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import ServiceLifecycle

/// Builds the simulator's router over `state`: the API under `/api/v1`, the admin routes under
/// `/_admin`.
public func buildSimulatorRouter(state: SimulatorState) -> Router<SimulatorRequestContext> {
    let router = Router(context: SimulatorRequestContext.self)
    let latency = state.configuration.latencyMilliseconds
    let slow = state.configuration.faults.slowMilliseconds
    router.add(middleware: TimelineMiddleware(state: state))
    router.post("/api/v1/sessions") { request, context -> Response in
        let (refusal, rateHeaders) = await state.admit(authorization: request.headers[.authorization])
        if let refusal { return response(refusal) }
        let body = try await request.body.collect(upTo: 2 << 20)
        let fault = await state.rollFault()
        switch fault {
        case .fail(let status, let html):
            return failure(status: status, html: html)
        case .resetBeforeCommit:
            return try await context.dropConnection()
        default:
            break
        }
        let key = request.headers.first { $0.name.canonicalName == "idempotency-key" }?.value
        switch await state.begin(idempotencyKey: key, body: Array(buffer: body)) {
        case .answer(let answer):
            return response(answer, extra: rateHeaders)
        case .ticket(let ticket):
            let delay = latency + (fault == .slow ? slow : 0)
            // A server finishes what it started: when the client goes away during the latency
            // (a timeout, a killed process), the session is still created; only the answer is lost.
            if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
            let answer = await state.complete(ticket)
            if fault == .resetAfterCommit { return try await context.dropConnection() }
            return response(answer, extra: rateHeaders)
        }
    }
    router.get("/api/v1/sessions") { request, _ -> Response in
        let (refusal, rateHeaders) = await state.admit(authorization: request.headers[.authorization])
        if let refusal { return response(refusal) }
        guard state.configuration.lookupEndpoint else {
            return response(
                SimulatedResponse.error(404, "not_found", "The requested resource was not found."),
                extra: rateHeaders)
        }
        let parameters = Dictionary(
            request.uri.queryParameters.map { (String($0.key), String($0.value)) },
            uniquingKeysWith: { first, _ in first })
        switch SessionListQuery.parse(parameters) {
        case .success(let query):
            return response(await state.list(query), extra: rateHeaders)
        case .failure(let errors):
            return response(
                .error(422, "validation_error", "The given data was invalid.", details: errors.fields),
                extra: rateHeaders)
        }
    }
    router.get("/api/v1/sessions/:id") { request, context -> Response in
        let (refusal, rateHeaders) = await state.admit(authorization: request.headers[.authorization])
        if let refusal { return response(refusal) }
        return response(await state.session(id: try context.parameters.require("id")), extra: rateHeaders)
    }
    router.get("/_admin/stats") { _, _ -> Response in
        let stats = await state.currentStats()
        let data = try JSONEncoder().encode(stats)
        return response(SimulatedResponse(status: 200, headers: [:], body: Array(data)))
    }
    router.post("/_admin/sessions/:id") { request, context -> Response in
        let body = try await request.body.collect(upTo: 1 << 16)
        guard let fields = try? JSONDecoder().decode(ForcedState.self, from: Data(buffer: body)) else {
            return response(
                .error(
                    422, "validation_error",
                    "expected {\"status\": created|in_progress|processing|completed|expired, "
                        + "\"decision\": approved|declined|review|null}"))
        }
        return response(
            await state.force(
                id: try context.parameters.require("id"), status: fields.status, decision: fields.decision))
    }
    router.post("/_admin/clock") { request, _ -> Response in
        let seconds = request.uri.queryParameters.get("advance").flatMap { Double($0) } ?? 0
        // Up to a century either way: NaN or a huge value would break every timestamp after it.
        guard seconds.isFinite, abs(seconds) <= 100 * 365 * 86400 else {
            return response(.error(422, "validation_error", "advance must be a number of seconds"))
        }
        await state.advanceClock(by: seconds)
        return response(.json(200, ["advanced_seconds": seconds]))
    }
    return router
}

/// An injected server failure: a JSON error body, or an HTML page as a proxy would send.
private func failure(status: Int, html: Bool) -> Response {
    guard html else {
        return response(.error(status, status == 503 ? "service_unavailable" : "internal_error", "Injected failure"))
    }
    var headers = HTTPFields()
    headers[.contentType] = "text/html"
    let page = "<html><head><title>\(status)</title></head><body><h1>\(status) Bad Gateway</h1></body></html>"
    return Response(
        status: HTTPResponse.Status(code: status), headers: headers,
        body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
}

private func response(_ answer: SimulatedResponse, extra: [String: String] = [:]) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    if let requestID = HTTPField.Name("X-Request-Id") {
        headers[requestID] = "req_" + UUID().uuidString.lowercased().prefix(12)
    }
    for (name, value) in extra.merging(answer.headers, uniquingKeysWith: { _, answer in answer }) {
        if let fieldName = HTTPField.Name(name) { headers[fieldName] = value }
    }
    return Response(
        status: HTTPResponse.Status(code: answer.status),
        headers: headers,
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body))
    )
}

/// Builds the simulator application on 127.0.0.1:`port` (0 for a random port), serving https
/// with `tls` when given, plain http otherwise.
public func buildSimulator(
    configuration: SimulatorConfiguration,
    state: SimulatorState? = nil,
    port: Int = 0,
    tls: TLSConfiguration? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in },
    logger: Logger = Logger(label: "verilock-simulator")
) throws -> some ApplicationProtocol {
    let router = buildSimulatorRouter(state: state ?? SimulatorState(configuration: configuration))
    return Application(
        router: router,
        server: try tls.map { try .tls(.http1(), tlsConfiguration: $0) } ?? .http1(),
        configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "verilock-simulator"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
        logger: logger
    )
}

/// A simulator serving in the background of this process, until ``stop()``.
public final class RunningSimulator: Sendable {
    /// The API's base URL, `http://127.0.0.1:PORT/api/v1` (`https://localhost:PORT/api/v1` with
    /// TLS, the name its certificate is for).
    public let baseURL: String
    /// The admin routes' base, `http://127.0.0.1:PORT/_admin` (https, as above, with TLS).
    public let adminURL: String
    /// The simulator's state, for inspection.
    public let state: SimulatorState
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(port: Int, tls: Bool, state: SimulatorState, group: ServiceGroup, task: Task<Void, any Error>) {
        let origin = tls ? "https://localhost:\(port)" : "http://127.0.0.1:\(port)"
        self.baseURL = origin + "/api/v1"
        self.adminURL = origin + "/_admin"
        self.state = state
        self.group = group
        self.task = task
    }

    /// Starts a simulator on 127.0.0.1:`port` (0: a random free port), with TLS when `tls` is
    /// given, and waits until it listens.
    public static func start(
        configuration: SimulatorConfiguration,
        port: Int = 0,
        tls: TLSConfiguration? = nil,
        logger: Logger = Logger(label: "verilock-simulator")
    ) async throws -> RunningSimulator {
        let state = SimulatorState(configuration: configuration)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try buildSimulator(
            configuration: configuration, state: state, port: port, tls: tls,
            onServerRunning: { port in continuation.yield(port) }, logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next() else {
            try await task.value
            throw CancellationError()
        }
        return RunningSimulator(port: bound, tls: tls != nil, state: state, group: group, task: task)
    }

    /// Stops serving: no new connections, requests in progress finish, then the server closes.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    /// Waits until the server stops (for `verilock-batch simulate`).
    public func wait() async throws {
        try await task.value
    }
}

/// The body of `POST /_admin/sessions/{id}`.
private struct ForcedState: Decodable {
    var status: SessionStatus
    var decision: SessionDecision?
}
