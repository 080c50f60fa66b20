import ArgumentParser
import Foundation
import Logging
import NIOSSL
import VerilockBatch
import VerilockSimulator

/// `verilock-batch simulate`: the built-in Verilock simulator on loopback.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Serve the Verilock API simulator on 127.0.0.1; prints its base URL first.",
        discussion: """
            A strict simulator of Verilock's API, with its validation, rate limit and error shapes; faults \
            on demand (failures, dropped connections before or after a session is made, slow answers, no \
            idempotency) to see how a run copes. GET /_admin/stats on the same port counts requests and any \
            external_id that got two sessions. It accepts qi_test_ keys only.

            Examples:
              verilock-batch simulate --port 8080 --rate-limit 600/min
              verilock-batch simulate --fail-rate 0.2 --reset-after-commit 0.1 --seed 7
              verilock-batch simulate --tls-certificate server.pem --tls-key server.key
            """
    )

    @Option(name: .long, help: "The port (0: a random free port).")
    var port = 0

    @Option(name: .customLong("api-key"), help: "The key the simulator accepts (a qi_test_ key).")
    var apiKey = SimulatorConfiguration.defaultAPIKey

    @Option(name: .long, help: "Comma-separated profile UUIDs it knows (default: any).")
    var profiles: String?

    @Option(name: .customLong("rate-limit"), help: "Per-key rate limit, N/min.")
    var rateLimit = "120/min"

    @Option(name: .customLong("window-seconds"), help: "The rate-limit window's length in seconds.")
    var windowSeconds = 60

    @Option(name: .long, help: "Answer latency in milliseconds.")
    var latency = 0

    @Option(name: .customLong("fail-rate"), help: "Share of creates answered 500/502/503 (JSON or HTML).")
    var failRate = 0.0

    @Option(name: .customLong("reset-before-commit"), help: "Share of creates dropped before the session is made.")
    var resetBeforeCommit = 0.0

    @Option(name: .customLong("reset-after-commit"), help: "Share of creates dropped after the session is made.")
    var resetAfterCommit = 0.0

    @Option(name: .customLong("slow-rate"), help: "Share of creates answered only after --slow-ms.")
    var slowRate = 0.0

    @Option(name: .customLong("slow-ms"), help: "How late a slow answer comes, in milliseconds.")
    var slowMilliseconds = 0

    @Option(name: .long, help: "Seed of the fault dice and of what applicants do.")
    var seed: UInt64 = 1

    @Flag(name: .customLong("no-idempotency"), help: "Ignore Idempotency-Key: every create makes a session.")
    var noIdempotency = false

    @Flag(name: .customLong("no-lookup"), help: "Ignore the external_id filter of GET /sessions.")
    var noLookup = false

    @Flag(name: .customLong("no-lookup-endpoint"), help: "Answer GET /sessions with 404, as if it did not exist.")
    var noLookupEndpoint = false

    @Option(name: .customLong("progress-rate"), help: "Share of sessions whose applicant opens the link.")
    var progressRate = 0.0

    @Option(
        name: .customLong("complete-rate"),
        help: "Share of the applicants who opened it that complete before it expires.")
    var completeRate = 0.0

    @Option(name: .long, help: "Decisions of completed sessions by weight, e.g. approved=0.8,declined=0.1,review=0.1.")
    var decisions = "approved=0.8,declined=0.1,review=0.1"

    @Flag(
        name: .customLong("frozen-clock"),
        help: "Sessions age only through POST /_admin/clock?advance=SECONDS, not with the wall clock (for tests).")
    var frozenClock = false

    @Option(
        name: .customLong("tls-certificate"),
        help: "Serve https with this PEM certificate (chain) for localhost; needs --tls-key.")
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-certificate.")
    var tlsKey: String?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-certificate and --tls-key go together")
        }
        guard let rate = RateLimit(parsing: rateLimit), !rate.isAuto else {
            throw ValidationError("--rate-limit must look like 120/min, not '\(rateLimit)'")
        }
        if apiKey.hasPrefix("qi_live_") { throw ValidationError("the simulator takes test keys only (qi_test_...)") }
        if !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
        if windowSeconds < 1 { throw ValidationError("--window-seconds must be at least 1") }
        if latency < 0 || slowMilliseconds < 0 { throw ValidationError("--latency and --slow-ms must not be negative") }
        for (name, value) in [
            ("--fail-rate", failRate), ("--reset-before-commit", resetBeforeCommit),
            ("--reset-after-commit", resetAfterCommit), ("--slow-rate", slowRate), ("--progress-rate", progressRate),
            ("--complete-rate", completeRate),
        ] where !(0...1).contains(value) {
            throw ValidationError("\(name) must be a probability between 0 and 1")
        }
        if ApplicantBehaviour.decisions(parsing: decisions) == nil {
            throw ValidationError(
                "--decisions must look like approved=0.8,declined=0.1,review=0.1 (weights not all zero), "
                    + "not '\(decisions)'")
        }
    }

    func run() async throws {
        logging.bootstrap()
        let perMinute = Int(((RateLimit(parsing: rateLimit)?.requestsPerSecond ?? 2) * 60).rounded())
        let configuration = SimulatorConfiguration(
            apiKeys: [apiKey],
            profiles: profiles?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? [],
            rateLimitPerMinute: perMinute,
            windowSeconds: windowSeconds,
            latencyMilliseconds: latency,
            faults: FaultInjection(
                failRate: failRate, resetBeforeCommitRate: resetBeforeCommit, resetAfterCommitRate: resetAfterCommit,
                slowRate: slowRate, slowMilliseconds: slowMilliseconds, seed: seed),
            idempotency: !noIdempotency,
            lookupFilter: !noLookup,
            lookupEndpoint: !noLookupEndpoint,
            applicants: ApplicantBehaviour(
                progressRate: progressRate, completeRate: completeRate,
                decisions: ApplicantBehaviour.decisions(parsing: decisions) ?? [:], seed: seed),
            frozenClock: frozenClock
        )
        var tls: TLSConfiguration?
        if let tlsCertificate, let tlsKey {
            tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(tlsCertificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: tlsKey, format: .pem)))
        }
        let simulator = try await RunningSimulator.start(configuration: configuration, port: port, tls: tls)
        let banner = "\(simulator.baseURL)\nadmin: \(simulator.adminURL)/stats   key: \(apiKey)\n"
        FileHandle.standardOutput.write(Data(banner.utf8))
        try await simulator.wait()
    }
}
