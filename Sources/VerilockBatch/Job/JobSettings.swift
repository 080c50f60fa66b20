import Foundation

/// The input format of a file.
public enum InputFormat: String, Sendable, CaseIterable {
    case auto, csv, ndjson

    /// The format of `path` under this setting (auto: by extension, after a `.gz`;
    /// `.ndjson`/`.jsonl`/`.json` are NDJSON).
    public func resolved(for path: String) -> InputFormat {
        guard self == .auto else { return self }
        var lower = path.lowercased()
        if lower.hasSuffix(".gz") { lower.removeLast(3) }
        return lower.hasSuffix(".ndjson") || lower.hasSuffix(".jsonl") || lower.hasSuffix(".json") ? .ndjson : .csv
    }
}

/// The output file's format.
public enum OutputFormat: String, Sendable, CaseIterable { case csv, ndjson }

/// Which rows the output holds.
public enum IncludeMode: String, Sendable, CaseIterable {
    /// Every input row that has a session.
    case all
    /// Only rows created or reissued in this run.
    case new
}

/// What a rerun does with a row that failed permanently before.
public enum RetryFailed: String, Sendable, CaseIterable { case changed, always, never }

/// How a create whose answer was lost is settled.
public enum UnknownOutcome: String, Sendable, CaseIterable {
    /// Look the external_id up first; if nothing is found, resend with the same key and body.
    /// Falls back to ``idempotencyKey`` for the rest of the run when the lookup endpoint is
    /// missing (404, 405, 400) or ignores its filter. Safe whether or not the API honours keys.
    case auto
    /// Resend with the same Idempotency-Key and body only: safe only if the API honours the key.
    case idempotencyKey = "idempotency-key"
    /// Look the external_id up first, then resend with the same key; a lookup that cannot be
    /// trusted is not used for that row.
    case lookup
}

/// A request rate: `N/min`, `N/s`, or `auto`.
public struct RateLimit: Sendable, Equatable {
    /// Requests per second.
    public var requestsPerSecond: Double
    /// Follow the server's `X-RateLimit-Limit` (starting from ``requestsPerSecond``).
    public var isAuto: Bool

    /// A fixed rate.
    public init(requestsPerSecond: Double, isAuto: Bool = false) {
        self.requestsPerSecond = requestsPerSecond
        self.isAuto = isAuto
    }

    /// Parses `120/min`, `2/s` or `auto`; nil when unreadable.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed == "auto" {
            self.init(requestsPerSecond: 2, isAuto: true)
            return
        }
        let parts = trimmed.split(separator: "/", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let count = Double(parts[0]), count > 0, count.isFinite else { return nil }
        switch parts[1] {
        case "s", "sec", "second": self.init(requestsPerSecond: count)
        case "m", "min", "minute": self.init(requestsPerSecond: count / 60)
        case "h", "hour": self.init(requestsPerSecond: count / 3600)
        default: return nil
        }
    }

    /// `120/min`-style text.
    public var description: String {
        if isAuto { return "auto" }
        let perMinute = requestsPerSecond * 60
        return perMinute.rounded() == perMinute ? "\(Int(perMinute))/min" : String(format: "%.2f/s", requestsPerSecond)
    }
}

/// Parses durations like `30s`, `500ms`, `10m`, `6h`, `1d` or a bare number of seconds.
public enum DurationText {
    /// The duration, or nil when unreadable.
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            if let value = Double(trimmed.dropLast(suffix.count)), value >= 0, value.isFinite {
                return .milliseconds(Int64(value * factor * 1000))
            }
        }
        if let value = Double(trimmed), value >= 0, value.isFinite { return .milliseconds(Int64(value * 1000)) }
        return nil
    }
}

/// Settings of the built-in simulator when a job runs against it.
public struct SimulatorSettings: Sendable, Equatable {
    /// Profiles the simulator knows.
    public var profiles: [String]
    /// Its rate limit per minute.
    public var rateLimitPerMinute: Int
    /// Its rate-limit window in seconds.
    public var windowSeconds = 60
    /// Its answer latency in milliseconds.
    public var latencyMilliseconds: Int
    /// Share of creates answered 500/502/503.
    public var failRate = 0.0
    /// Share of creates whose connection drops before the session is made.
    public var resetBeforeCommitRate = 0.0
    /// Share of creates whose connection drops after the session is made.
    public var resetAfterCommitRate = 0.0
    /// Share of creates answered after `slowMilliseconds`.
    public var slowRate = 0.0
    /// How late a slow answer comes.
    public var slowMilliseconds = 0
    /// Seed of the fault dice.
    public var seed: UInt64 = 1
    /// Whether it honours Idempotency-Key.
    public var idempotency = true
    /// Whether it filters lookups by external_id.
    public var lookupFilter = true
    /// Whether it serves the lookup endpoint at all.
    public var lookupEndpoint = true

    /// Settings with the given values.
    public init(profiles: [String] = [], rateLimitPerMinute: Int = 6000, latencyMilliseconds: Int = 0) {
        self.profiles = profiles
        self.rateLimitPerMinute = rateLimitPerMinute
        self.latencyMilliseconds = latencyMilliseconds
    }
}

/// Where the API is and how to talk to it.
public struct APISettings: Sendable, Equatable {
    /// The base URL (`https://verilock.io/api/v1`); nil with the simulator.
    public var baseURL: String?
    /// The environment variable holding the key.
    public var keyEnvironmentVariable = "VERILOCK_API_KEY"
    /// A file holding the key, instead of the environment.
    public var keyFile: String?
    /// The configured rate.
    public var rateLimit = RateLimit(requestsPerSecond: 2)
    /// The share of the key's budget this job takes.
    public var rateShare = 1.0
    /// Requests in flight at once.
    public var concurrency = 8
    /// Per-request timeout.
    public var timeout: Duration = .seconds(30)
    /// How long the API may go on with a request after the client gave up on it: a lost answer
    /// is not sent again before this (or the timeout, if longer) has passed and a lookup found
    /// nothing.
    public var serverTimeout: Duration = .seconds(60)
    /// Attempts per row.
    public var maxAttempts = 5
    /// How a lost answer is settled.
    public var unknownOutcome = UnknownOutcome.auto
    /// Run against the built-in simulator, in-process.
    public var simulator: SimulatorSettings?
    /// `api.proxy`: overrides the environment's proxy variables; nil follows them.
    public var proxy: ProxySetting?
    /// `api.ca_file`: a PEM bundle trusted besides the system's authorities.
    public var caFile: String?

    /// The documented production base URL.
    public static let defaultBaseURL = "https://verilock.io/api/v1"

    /// Defaults.
    public init() {}

    /// Checks that `text` is an https URL, or http on a loopback host, with no query, fragment
    /// or user info; returns it as a URL.
    public static func validateBaseURL(_ text: String) throws(APIError) -> URL {
        let url = try validateURL(text)
        guard url.query == nil, url.fragment == nil, url.user == nil, url.password == nil,
            !text.contains("?"), !text.contains("#")
        else { throw .insecureBaseURL(text) }
        return url
    }

    /// Checks that `text` is an https URL, or http on a loopback host (decided on the parsed
    /// host: a literal 127.0.0.0/8 or ::1 address, or `localhost`; never by prefix).
    public static func validateURL(_ text: String) throws(APIError) -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased(),
            !host.isEmpty
        else { throw .insecureBaseURL(text) }
        guard scheme == "https" || (scheme == "http" && isLoopback(host: host)) else { throw .insecureBaseURL(text) }
        if let port = url.port, !(1...65535).contains(port) { throw .insecureBaseURL(text) }
        return url
    }

    /// Whether `host` (as URL parsing gives it) is a loopback address or `localhost`.
    static func isLoopback(host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)
                && (Int(part) ?? 256) <= 255
        }
    }
}

/// What a rerun does with links and failures it finds in the ledger.
public struct RerunPolicy: Sendable, Equatable {
    /// Give an expired link (or one expiring within the margin) a new session.
    public var reissueExpired = true
    /// Give an applicant whose completed session was declined a new session (off: never).
    public var reissueDeclined = false
    /// How close to its expiry a link counts as expired.
    public var reissueMargin: Duration = .zero
    /// What to do with rows that failed permanently before.
    public var retryFailed = RetryFailed.changed

    /// Defaults.
    public init() {}
}
