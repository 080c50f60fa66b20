import AsyncHTTPClient
import Foundation
import Logging

/// Healthchecks-style pings: `URL/start` when a run begins, `URL` when it succeeds, `URL/<exit
/// code>` when it does not. A short timeout; a failed ping is logged and never fails the run.
public final class Pinger: Sendable {
    private let url: String
    private let client: HTTPClient
    /// Whether the client is this pinger's own (to shut down), not ``HTTPClient/shared``.
    private let ownsClient: Bool
    private let logger: Logger

    /// A pinger for `url` (checked like a base URL: https, or http on loopback; no query,
    /// fragment or user info, since `/start` and the exit code are appended to its path),
    /// through the proxy `environment` names for it. The job's `api.proxy` and `api.ca_file`
    /// do not apply: the start ping is sent before the job is read.
    public init(url: String, environment: [String: String], logger: Logger) throws(APIError) {
        let checked = try APISettings.validateBaseURL(url)
        var base = checked.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        self.url = base
        let route = try HTTPRoute.resolve(
            for: checked, setting: nil, caFile: nil, environment: environment, carriesKey: false)
        self.ownsClient = !route.isDefault
        self.client =
            route.isDefault
            ? HTTPClient.shared
            : HTTPClient(eventLoopGroupProvider: .singleton, configuration: route.clientConfiguration())
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

    /// Closes the client, if it is the pinger's own; call once at the end.
    public func shutdown() async {
        if ownsClient { try? await client.shutdown() }
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
