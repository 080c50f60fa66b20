import Foundation

/// A problem with the API that stops the whole run.
public enum APIError: Error, Sendable, Equatable {
    /// 401, 402 or 403: the key or the account was refused.
    case keyRefused(APIFailure)
    /// No API key in the environment variable or key file the job names.
    case missingKey(source: String)
    /// The key file cannot be read.
    case unreadableKeyFile(path: String, reason: String)
    /// The key (from `source`) is not one line without whitespace or control characters.
    case malformedKey(source: String, reason: String)
    /// The base URL is not https (and not loopback), or not a URL.
    case insecureBaseURL(String)
    /// A production key was given to the simulator.
    case liveKeyWithSimulator
    /// The API stayed unreachable or kept failing past the retry budget.
    case unavailable(APIFailure)
    /// The first creates all answered 404: the profile does not exist.
    case unknownProfile(profileID: String, failure: APIFailure)
    /// The API answered a redirect (3xx): the base URL does not point at the API itself.
    case redirected(status: Int, location: String?)
    /// A proxy URL (from `source`: a variable or `api.proxy`; user info removed) is not usable.
    case invalidProxy(source: String, url: String, reason: String)
    /// The key would go through a proxy over plain http, readable by the proxy.
    case keyInClearThroughProxy(url: String, proxy: String)
    /// `api.ca_file` cannot be read as PEM certificates.
    case unreadableCAFile(path: String, reason: String)
    /// The TLS certificate `host` presented is not trusted or not for that name: the request
    /// never left (the handshake comes first).
    case untrustedCertificate(host: String, reason: String)
    /// The proxy refused to open a tunnel to the API (`reason`: its answer).
    case proxyRefused(proxy: String, reason: String)
}

extension APIError: LocalizedError, CustomStringConvertible {
    public var description: String {
        switch self {
        case .keyRefused(let failure):
            "the API refused the key or the account (\(failure.summary)): check VERILOCK_API_KEY, "
                + "the key's environment (qi_live_ or qi_test_) and the account's balance; nothing more was sent"
        case .missingKey(let source):
            "no API key: set \(source) (the key never goes in a job file or a flag)"
        case .malformedKey(let source, let reason):
            "the API key in \(source) holds \(reason): a key is one line without spaces; fix \(source) "
                + "(the key is not shown)"
        case .unreadableKeyFile(let path, let reason):
            "cannot read the API key file \(path): \(reason)"
        case .insecureBaseURL(let url):
            "URL \(Self.withoutUserInfo(url)) is not allowed: it must be an https URL (plain http only for "
                + "127.0.0.0/8, [::1] and localhost), and a base URL has no query, fragment or user info"
        case .unavailable(let failure):
            "the API stayed unavailable past the retry budget (last answer: \(failure.summary)); stopped cleanly, "
                + "the rows not yet answered stay pending: run the same command again later"
        case .unknownProfile(let profileID, let failure):
            "the API does not know the verification profile \(profileID) (\(failure.summary)): check "
                + "session.profile_id or --profile-id; stopped after the first rows"
        case .redirected(let status, let location):
            "the API answered HTTP \(status), a redirect to \(location ?? "no Location"): the base URL is wrong "
                + "(the tool never follows redirects, so the key is not sent elsewhere); fix api.base_url or "
                + "--base-url. No row was marked failed"
        case .invalidProxy(let source, let url, let reason):
            "the proxy \(url) in \(source) cannot be used: \(reason); fix \(source)"
        case .keyInClearThroughProxy(let url, let proxy):
            "\(url) is plain http, so the proxy \(proxy) in api.proxy could read the API key: use an https base "
                + "URL, or set api.proxy: none"
        case .unreadableCAFile(let path, let reason):
            "cannot use api.ca_file \(path): \(reason)"
        case .untrustedCertificate(let host, let reason):
            "the TLS certificate of \(host) is not trusted (\(reason)); nothing was sent. If a proxy inspects "
                + "TLS, set api.ca_file to its CA bundle (verification is never turned off); the rows stay pending "
                + "for the next run"
        case .proxyRefused(let proxy, let reason):
            "the proxy \(proxy) refused to open a tunnel to the API (\(reason)); nothing was sent. Check the "
                + "proxy's user and password (in HTTPS_PROXY or api.proxy) and that it allows the API's host and "
                + "port; the rows stay pending for the next run"
        case .liveKeyWithSimulator:
            "a production key (qi_live_) was given to the simulator: unset VERILOCK_API_KEY or use a qi_test_ key"
        }
    }

    public var errorDescription: String? { description }

    /// `text` with anything that may be secret cut out, for messages: everything between the
    /// scheme (with its `//`) and the last `@` anywhere (a password may hold `@`, `/`, `?`, `#`
    /// or `\\` itself, and the scheme may be misspelt), then a query or fragment (tokens ride
    /// there).
    /// When the last `@` is inside the query or fragment, the whole rest goes: it cannot be told
    /// apart from user info holding `?` or `#`.
    static func withoutUserInfo(_ text: String) -> String {
        var shown = Substring(text)
        let queryStart = shown.firstIndex { $0 == "?" || $0 == "#" }
        if let at = shown.lastIndex(of: "@"), let queryStart, queryStart < at {
            let schemeEnd = shown.range(of: "://")?.upperBound ?? shown.startIndex
            return String(shown[..<schemeEnd]) + "[user info, query or fragment removed]"
        }
        if let at = shown.lastIndex(of: "@") {
            var schemeEnd = shown.firstIndex(of: ":").map { shown.index(after: $0) } ?? shown.startIndex
            while schemeEnd < at && shown[schemeEnd] == "/" { schemeEnd = shown.index(after: schemeEnd) }
            let start = schemeEnd <= at ? schemeEnd : shown.startIndex
            shown = shown[..<start] + "[user info removed]" + shown[at...]
        }
        var removed = ""
        if let cut = shown.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            shown = shown[..<cut]
            removed = " [query or fragment removed]"
        }
        return String(shown) + removed
    }
}
