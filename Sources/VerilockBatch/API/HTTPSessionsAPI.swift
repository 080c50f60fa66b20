import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// The Verilock API over HTTP (async-http-client), with TLS always verified, directly or through
/// the proxy its ``HTTPRoute`` names.
public final class HTTPSessionsAPI: SessionsAPI {
    /// The tool's User-Agent.
    public static let userAgent = "verilock-batch/\(VerilockBatchVersion.current)"

    private let client: HTTPClient
    private let sessionsURL: String
    private let authorization: String
    private let timeout: TimeAmount
    /// The API's host, for messages.
    private let host: String
    /// The proxy, for messages (never its password).
    private let proxy: String?

    /// A client for `baseURL` (already checked by ``APISettings/validateBaseURL(_:)``).
    /// - Parameters:
    ///   - connections: the pool size per host; at least the run's concurrency.
    ///   - route: the proxy and extra trusted certificates for `baseURL`.
    public init(baseURL: URL, apiKey: String, connections: Int, timeout: Duration, route: HTTPRoute) {
        var configuration = route.clientConfiguration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(8, connections)
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var base = baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        self.sessionsURL = base + "/sessions"
        self.host = baseURL.host ?? base
        self.proxy = route.proxy?.description
        self.authorization = "Bearer " + apiKey
        self.timeout = TimeAmount(timeout)
    }

    /// Sends `POST {base}/sessions`; throws when no answer came.
    public func createSession(_ request: CreateSessionRequest) async throws -> APIResponse {
        var http = makeRequest(url: sessionsURL, method: .POST)
        http.headers.add(name: "Content-Type", value: "application/json")
        http.headers.add(name: "Idempotency-Key", value: request.idempotencyKey)
        http.body = .bytes(ByteBuffer(bytes: request.body))
        return try await execute(http)
    }

    /// Sends `GET {base}/sessions` with `request`'s query.
    public func listSessions(_ request: SessionListRequest) async throws -> APIResponse {
        try await execute(makeRequest(url: sessionsURL + "?" + request.query, method: .GET))
    }

    /// Sends `GET {base}/sessions/{id}`.
    public func session(id: String) async throws -> APIResponse {
        let escaped = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? id
        return try await execute(makeRequest(url: sessionsURL + "/" + escaped, method: .GET))
    }

    private func makeRequest(url: String, method: HTTPMethod) -> HTTPClientRequest {
        var http = HTTPClientRequest(url: url)
        http.method = method
        http.headers.add(name: "Authorization", value: authorization)
        http.headers.add(name: "Accept", value: "application/json")
        http.headers.add(name: "User-Agent", value: Self.userAgent)
        return http
    }

    /// Sends `http`; a certificate that fails verification throws
    /// ``APIError/untrustedCertificate(host:reason:)`` and a proxy that will not open a tunnel
    /// ``APIError/proxyRefused(proxy:reason:)`` (neither passes on a retry, and no request left);
    /// any other failure to get an answer throws what the client threw.
    private func execute(_ http: HTTPClientRequest) async throws -> APIResponse {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(http, timeout: timeout)
        } catch let error as NIOSSLError {
            guard case .handshakeFailed = error, "\(error)".contains("CERTIFICATE_VERIFY_FAILED") else { throw error }
            throw APIError.untrustedCertificate(
                host: host,
                reason: "it failed verification: an untrusted issuer, an expired certificate or an incomplete chain")
        } catch let error as NIOSSLExtraError where error == .failedToValidateHostname {
            throw APIError.untrustedCertificate(host: host, reason: "the certificate is not for this host name")
        } catch let error as HTTPClientError {
            guard let proxy else { throw error }
            switch error {
            case .proxyAuthenticationRequired:
                throw APIError.proxyRefused(proxy: proxy, reason: "407 Proxy Authentication Required")
            case .invalidProxyResponse:
                throw APIError.proxyRefused(proxy: proxy, reason: "it did not answer CONNECT with 200")
            default:
                throw error
            }
        }
        let body = try await response.body.collect(upTo: 1 << 20)
        let headers = response.headers
        return APIResponse(
            status: Int(response.status.code),
            requestID: headers.first(name: "X-Request-Id"),
            retryAfter: headers.first(name: "Retry-After"),
            rateLimitLimit: headers.first(name: "X-RateLimit-Limit").flatMap { Int($0) },
            rateLimitRemaining: headers.first(name: "X-RateLimit-Remaining").flatMap { Int($0) },
            location: headers.first(name: "Location"),
            body: Array(buffer: body)
        )
    }

    /// Closes the connection pool; call once when the run is over.
    public func shutdown() async {
        try? await client.shutdown()
    }
}

/// The tool's version, as the User-Agent and `--version` show it.
public enum VerilockBatchVersion {
    /// The current version.
    public static let current = "0.1.0"
}
