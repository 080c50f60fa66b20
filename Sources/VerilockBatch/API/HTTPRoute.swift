import AsyncHTTPClient
import Foundation
import NIOSSL

/// How the tool's HTTP client reaches one host: directly or through a proxy (CONNECT), trusting
/// the system's certificate authorities plus those of `api.ca_file`. Verification is never
/// turned off.
public struct HTTPRoute: Sendable {
    /// The proxy, or nil for a direct connection.
    public let proxy: ProxyServer?
    /// Extra trusted certificates, from `api.ca_file`.
    let extraRoots: [NIOSSLCertificate]

    /// Straight to the host, trusting the system's authorities only.
    public static let direct = HTTPRoute(proxy: nil, extraRoots: [])

    /// The route to `url`. `setting` (the job's `api.proxy`) wins when given; otherwise, for an
    /// https URL, the environment as curl reads it: `https_proxy`/`HTTPS_PROXY`, then
    /// `all_proxy`/`ALL_PROXY`, unless `no_proxy`/`NO_PROXY` matches the host. A plain http URL
    /// (allowed for loopback hosts only) never takes the environment's proxy: a proxy elsewhere
    /// cannot reach this host's loopback. A request that carries the key (`carriesKey`) never
    /// goes through a proxy in plain http, where the proxy could read it: that throws.
    public static func resolve(
        for url: URL, setting: ProxySetting?, caFile: String?, environment: [String: String], carriesKey: Bool
    ) throws(APIError) -> HTTPRoute {
        let scheme = url.scheme?.lowercased() ?? "https"
        let host = url.host ?? ""
        var proxy: ProxyServer?
        switch setting {
        case .direct:
            proxy = nil
        case .server(let server):
            proxy = server
        case nil:
            let names = ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
            if scheme == "https", let name = names.first(where: { !(environment[$0] ?? "").isEmpty }),
                let value = environment[name]
            {
                let exempt = ["no_proxy", "NO_PROXY"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
                if !(exempt.map { NoProxyList($0).matches(host: host) } ?? false) {
                    proxy = try ProxyServer(parsing: value, source: name)
                }
            }
        }
        if let proxy, carriesKey, scheme != "https" {
            throw .keyInClearThroughProxy(url: APIError.withoutUserInfo(url.absoluteString), proxy: proxy.description)
        }
        return HTTPRoute(proxy: proxy, extraRoots: try caFile.map(Self.certificates(in:)) ?? [])
    }

    /// The certificates of the PEM file at `path`; an unreadable file, or one without a
    /// certificate, throws.
    static func certificates(in path: String) throws(APIError) -> [NIOSSLCertificate] {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw .unreadableCAFile(path: path, reason: "it does not exist or cannot be read")
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw .unreadableCAFile(path: path, reason: "it is not a PEM certificate bundle (\(error))")
        }
        guard !certificates.isEmpty else {
            throw .unreadableCAFile(path: path, reason: "it holds no PEM certificate")
        }
        return certificates
    }

    /// Whether the route is the plain default: direct, with the system's authorities only.
    public var isDefault: Bool { proxy == nil && extraRoots.isEmpty }

    /// An async-http-client configuration for this route: the proxy as a CONNECT proxy (with
    /// basic authorization when it names a user), and the extra roots added to the system's.
    public func clientConfiguration() -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        if let proxy {
            let authorization = proxy.user.map {
                HTTPClient.Authorization.basic(username: $0, password: proxy.password ?? "")
            }
            configuration.proxy = .server(host: proxy.host, port: proxy.port, authorization: authorization)
        }
        if !extraRoots.isEmpty {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = [.certificates(extraRoots)]
            configuration.tlsConfiguration = tls
        }
        return configuration
    }
}
