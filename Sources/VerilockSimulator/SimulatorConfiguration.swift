import Foundation

/// How the simulator behaves: keys, profiles, rate limit, latency.
public struct SimulatorConfiguration: Sendable, Equatable {
    /// The API keys it accepts (Bearer).
    public var apiKeys: [String]
    /// The profiles it knows; empty means every well-formed profile_id is known.
    public var profiles: [String]
    /// The per-key rate limit, in requests per minute (reported in `X-RateLimit-Limit`).
    public var rateLimitPerMinute: Int
    /// The length of a fixed rate-limit window in seconds; the window allows
    /// `rateLimitPerMinute × windowSeconds / 60` requests.
    public var windowSeconds: Int
    /// How long each create takes to answer, in milliseconds.
    public var latencyMilliseconds: Int
    /// The host the session links point at.
    public var verifyBaseURL: String
    /// Faults injected into creates.
    public var faults: FaultInjection
    /// Honour `Idempotency-Key` (off: every create makes a new session).
    public var idempotency: Bool
    /// Filter `GET /sessions` by `external_id` (off: the filter is silently ignored).
    public var lookupFilter: Bool
    /// Serve `GET /sessions` at all (off: it answers 404, as an API without the endpoint would).
    public var lookupEndpoint: Bool
    /// What applicants do with their links.
    public var applicants: ApplicantBehaviour
    /// Sessions age only through `POST /_admin/clock`, not with the wall clock (rate-limit
    /// windows still follow the wall clock).
    public var frozenClock: Bool

    /// The key the simulator accepts by default; a test key, never a production one.
    public static let defaultAPIKey = "qi_test_simulator"

    /// A configuration with the given values.
    public init(
        apiKeys: [String] = [SimulatorConfiguration.defaultAPIKey],
        profiles: [String] = [],
        rateLimitPerMinute: Int = 120,
        windowSeconds: Int = 60,
        latencyMilliseconds: Int = 0,
        verifyBaseURL: String = "https://simulator.verilock.invalid/verify/",
        faults: FaultInjection = FaultInjection(),
        idempotency: Bool = true,
        lookupFilter: Bool = true,
        lookupEndpoint: Bool = true,
        applicants: ApplicantBehaviour = ApplicantBehaviour(),
        frozenClock: Bool = false
    ) {
        self.frozenClock = frozenClock
        self.applicants = applicants
        self.faults = faults
        self.idempotency = idempotency
        self.lookupFilter = lookupFilter
        self.lookupEndpoint = lookupEndpoint
        self.apiKeys = apiKeys
        self.profiles = profiles.map { $0.lowercased() }
        self.rateLimitPerMinute = rateLimitPerMinute
        self.windowSeconds = max(1, windowSeconds)
        self.latencyMilliseconds = latencyMilliseconds
        self.verifyBaseURL = verifyBaseURL
    }

    /// Requests one key may make in one window.
    public var requestsPerWindow: Int { max(1, rateLimitPerMinute * windowSeconds / 60) }
}
