import Foundation

/// An HTTP proxy the API is reached through, with CONNECT: `http://[user[:password]@]host[:port]`
/// as curl reads `HTTPS_PROXY` (no scheme means http, no port means 1080).
public struct ProxyServer: Sendable, Equatable, CustomStringConvertible {
    /// The proxy's host name or address.
    public var host: String
    /// Its port.
    public var port: Int
    /// The user for `Proxy-Authorization: Basic`, if the URL names one.
    public var user: String?
    /// That user's password (never shown).
    public var password: String?

    /// curl's default proxy port.
    static let defaultPort = 1080

    /// Parses a proxy URL; `source` names where it came from (`HTTPS_PROXY`, `api.proxy`) in the
    /// error, which shows the URL's scheme, host and port at most, never its user info.
    public init(parsing text: String, source: String) throws(APIError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let full = trimmed.contains("://") ? trimmed : "http://" + trimmed
        // A query, fragment or path has no place in a proxy URL: there, it is a password's
        // unencoded ? # or / cutting the URL short (and the host and port read would be wrong).
        guard let components = URLComponents(string: full), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty, components.query == nil, components.fragment == nil,
            components.path.isEmpty || components.path == "/"
        else {
            throw .invalidProxy(
                source: source, url: "(not shown: it may hold a password)",
                reason: "it is not a proxy URL (a password holding ? # / or @ must be percent-encoded: %3F %23 %2F %40)"
            )
        }
        let shown = "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
        guard scheme == "http" else {
            throw .invalidProxy(
                source: source, url: shown,
                reason: "only http:// proxies are supported (the API's own TLS runs inside the proxy's CONNECT "
                    + "tunnel, so the key is never readable by the proxy)")
        }
        let port = components.port ?? Self.defaultPort
        guard (1...65535).contains(port) else {
            throw .invalidProxy(
                source: source, url: shown, reason: "port \(port) is not valid")
        }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.port = port
        self.user = components.percentEncodedUser.flatMap { $0.removingPercentEncoding }.flatMap {
            $0.isEmpty ? nil : $0
        }
        self.password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
    }

    /// `http://host:port`, and whether it has a user; never the user or the password.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "http://\(shownHost):\(port)" + (user == nil ? "" : " (with a user)")
    }
}
