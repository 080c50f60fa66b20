import Foundation
import Testing
import VerilockSimulator

/// The binary on a corporate network: the API (the simulator, serving https with a private CA's
/// certificate) reached through a CONNECT proxy named by HTTPS_PROXY, or directly when NO_PROXY
/// names its host; the CA trusted through api.ca_file and nothing else.
@Suite("verilock-batch through a proxy", .serialized)
struct ProxyEndToEndTests {
    static let profile = BinaryEndToEndTests.profile
    static let key = SimulatorConfiguration.defaultAPIKey

    let folder: String = {
        let path = NSTemporaryDirectory() + "verilock-proxy-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// A job for three applicants against `baseURL`, trusting `authority` when given.
    func job(baseURL: String, authority: String?) -> String {
        let input = folder + "/applicants.csv"
        _ = FileManager.default.createFile(
            atPath: input,
            contents: Data(
                "external_id,applicant_email\nu-1,a@example.com\nu-2,b@example.com\nu-3,c@example.com\n".utf8))
        let path = folder + "/job.yaml"
        let text = """
            input:
              files: [\(input)]
            session:
              profile_id: \(Self.profile)
            api:
              base_url: \(baseURL)
              rate_limit: 6000/min
              max_attempts: 2
            \(authority.map { "  ca_file: \($0)" } ?? "")
            ledger: \(folder)/state/ledger.sqlite
            output:
              file: \(folder)/out/output.csv
            rejects: \(folder)/out/rejects.csv
            """
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    /// The environment of a run: the key, and the proxy variables given (the test process's own
    /// proxy variables are blanked).
    func environment(_ proxy: [String: String]) -> [String: String] {
        var env = ["VERILOCK_API_KEY": Self.key]
        for name in ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"] { env[name] = "" }
        return env.merging(proxy) { _, new in new }
    }

    /// A private CA's certificates, the simulator serving https with them, and a proxy.
    func servers() async throws -> (TestCertificates, SimulatorProcess, ConnectProxy) {
        let certificates = try TestCertificates(in: folder)
        let simulator = try await SimulatorProcess([
            "--profiles", Self.profile, "--tls-certificate", certificates.certificate, "--tls-key", certificates.key,
        ])
        return (certificates, simulator, try await ConnectProxy.start())
    }

    @Test("HTTPS_PROXY: every request goes through the proxy's CONNECT tunnel, and the key never shows in it")
    func throughTheProxy() async throws {
        let (certificates, simulator, proxy) = try await servers()
        let port = try #require(URL(string: simulator.baseURL)?.port)

        let run = try await BinaryRunner.run(
            ["run", job(baseURL: simulator.baseURL, authority: certificates.authority)],
            environment: environment(["HTTPS_PROXY": proxy.url]))
        #expect(run.exitCode == 0, "stderr: \(run.stderr)")
        let output = try BinaryEndToEndTests.csvRows(folder + "/out/output.csv")
        #expect(output.dropFirst().map { $0[0] } == ["u-1", "u-2", "u-3"])
        #expect(output.dropFirst().allSatisfy { $0.last == "created" })
        let log = proxy.record.log
        #expect(!log.isEmpty)
        #expect(log.allSatisfy { $0 == "CONNECT localhost:\(port) HTTP/1.1" }, "\(log)")
        let carried = proxy.record.carried
        #expect(carried.count > 1000, "the requests' bytes went through the tunnel")
        #expect(!Self.contains(carried, Array(Self.key.utf8)), "the key crossed the proxy in clear text")
        #expect(!Self.contains(carried, Array("Authorization".utf8)))
        #expect(run.stderr.contains("through a proxy") && run.stderr.contains(proxy.url))
        await proxy.stop()
        await simulator.stop()
    }

    @Test("NO_PROXY naming the host sends directly: the proxy sees no connection")
    func noProxySendsDirectly() async throws {
        let (certificates, simulator, proxy) = try await servers()
        let run = try await BinaryRunner.run(
            ["run", job(baseURL: simulator.baseURL, authority: certificates.authority)],
            environment: environment(["https_proxy": proxy.url, "no_proxy": "example.com, .localhost"]))
        #expect(run.exitCode == 0, "stderr: \(run.stderr)")
        #expect(try BinaryEndToEndTests.csvRows(folder + "/out/output.csv").count == 4)
        #expect(proxy.record.log.isEmpty)
        await proxy.stop()
        await simulator.stop()
    }

    @Test("without api.ca_file the private CA is not trusted: nothing is created, through the proxy or not")
    func verificationStaysOn() async throws {
        let (_, simulator, proxy) = try await servers()
        let run = try await BinaryRunner.run(
            ["run", job(baseURL: simulator.baseURL, authority: nil)],
            environment: environment(["HTTPS_PROXY": proxy.url]))
        #expect(run.exitCode == 69)
        #expect(
            run.stderr.contains("TLS certificate of localhost is not trusted") && run.stderr.contains("api.ca_file"),
            "stderr: \(run.stderr)")
        #expect(run.stderr.contains("(retries 0, "), "a failed handshake is not retried")
        let output = (try? BinaryEndToEndTests.csvRows(folder + "/out/output.csv")) ?? []
        #expect(output.dropFirst().isEmpty)
        #expect(!proxy.record.log.isEmpty)
        await proxy.stop()
        await simulator.stop()
    }

    @Test("a proxy that refuses the tunnel (407) stops the run, unretried, naming the proxy but never its password")
    func proxyRefuses() async throws {
        let (certificates, simulator, _) = try await servers()
        let proxy = try await ConnectProxy.start(refusing: true)
        let run = try await BinaryRunner.run(
            ["run", job(baseURL: simulator.baseURL, authority: certificates.authority)],
            environment: environment(["HTTPS_PROXY": "http://proxyuser-q7z:hunter2@127.0.0.1:\(proxy.port)"]))
        #expect(run.exitCode == 69)
        #expect(
            run.stderr.contains("the proxy http://127.0.0.1:\(proxy.port) (with a user) refused to open a tunnel")
                && run.stderr.contains("407"), "stderr: \(run.stderr)")
        #expect(run.stderr.contains("(retries 0, "), "a refusal is not retried")
        #expect(!run.stderr.contains("hunter2") && !run.stderr.contains("proxyuser-q7z"))
        #expect(!proxy.record.log.isEmpty)
        await proxy.stop()
        await simulator.stop()
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { start in
            haystack[start..<(start + needle.count)].elementsEqual(needle)
        }
    }
}
