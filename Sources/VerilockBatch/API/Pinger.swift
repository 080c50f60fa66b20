import AsyncHTTPClient
import Foundation
import Logging

/// Healthchecks-style pings: `URL/start` when a run begins, `URL` when it succeeds, `URL/<exit
/// code>` when it does not. A short timeout; a failed ping is logged and never fails the run.
public final class Pinger: Sendable {
    private let url: String
    private let client: HTTPClient
    private let logger: Logger

    /// A pinger for `url` (checked like a base URL: https, or http on loopback; no query,
    /// fragment or user info, since `/start` and the exit code are appended to its path).
    public init(url: String, logger: Logger) throws(APIError) {
        var base = try APISettings.validateBaseURL(url).absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        self.url = base
        self.client = HTTPClient(eventLoopGroupProvider: .singleton)
        self.logger = logger
    }

    /// Pings `/start`.
    public func start() async {
        await ping(url + "/start")
    }

    /// Pings the URL itself for exit code 0, `/<exit code>` otherwise.
    public func finish(exitCode: Int32) async {
        await ping(exitCode == 0 ? url : url + "/\(exitCode)")
    }

    /// Closes the client; call once at the end.
    public func shutdown() async {
        try? await client.shutdown()
    }

    private func ping(_ target: String) async {
        var request = HTTPClientRequest(url: target)
        request.method = .POST
        request.headers.add(name: "User-Agent", value: HTTPSessionsAPI.userAgent)
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 64 * 1024)
            if response.status.code >= 400 {
                logger.warning("ping answered \(response.status.code)", metadata: ["ping": "\(target)"])
            }
        } catch {
            logger.warning("ping failed: \(error)", metadata: ["ping": "\(target)"])
        }
    }
}
