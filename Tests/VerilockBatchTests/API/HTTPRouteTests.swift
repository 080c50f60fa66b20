import Foundation
import Testing

@testable import VerilockBatch

/// Which proxy a request takes, read from the job and the environment as curl reads them.
@Suite("HTTP route: proxies and NO_PROXY")
struct HTTPRouteTests {
    static func url(_ text: String = "https://verilock.io/api/v1") throws -> URL {
        try #require(URL(string: text))
    }

    func proxy(
        _ environment: [String: String], url: URL? = nil, setting: ProxySetting? = nil, carriesKey: Bool = true
    ) throws -> String? {
        try HTTPRoute.resolve(
            for: url ?? Self.url(), setting: setting, caFile: nil, environment: environment, carriesKey: carriesKey
        ).proxy?.description
    }

    @Test("https_proxy wins over HTTPS_PROXY, which wins over ALL_PROXY; empty values are unset")
    func variables() throws {
        #expect(try proxy([:]) == nil)
        #expect(try proxy(["HTTPS_PROXY": "http://big:3128"]) == "http://big:3128")
        #expect(
            try proxy(["https_proxy": "http://small:8080", "HTTPS_PROXY": "http://big:3128"]) == "http://small:8080")
        #expect(try proxy(["https_proxy": "", "HTTPS_PROXY": "http://big:3128"]) == "http://big:3128")
        #expect(try proxy(["ALL_PROXY": "http://all:3128"]) == "http://all:3128")
        #expect(try proxy(["HTTP_PROXY": "http://plain:3128"]) == nil, "http_proxy is for http URLs")
    }

    @Test("a proxy URL without a scheme is http, without a port 1080; its password is never shown")
    func proxyURLs() throws {
        #expect(try proxy(["HTTPS_PROXY": "proxy.corp"]) == "http://proxy.corp:1080")
        let server = try ProxyServer(parsing: "http://ops%40corp:s3cr%2Ft@proxy.corp:3128/", source: "HTTPS_PROXY")
        #expect(server.user == "ops@corp" && server.password == "s3cr/t")
        #expect(server.description == "http://proxy.corp:3128 (with a user)")
        #expect(
            try HTTPRoute.resolve(
                for: Self.url(), setting: .server(server), caFile: nil, environment: [:], carriesKey: true
            )
            .clientConfiguration().proxy != nil)
        // A password holding # or ? (not percent-encoded) makes the URL unreadable: none of it shows.
        for leaky in [
            "http://ops:hun#ter2@proxy.corp:3128", "http://ops:hun?ter2@proxy.corp:3128",
            "http://ops:123#hun@proxy:3128", "http://ops:123/hun@proxy:3128",
        ] {
            #expect(throws: APIError.self) { try ProxyServer(parsing: leaky, source: "HTTPS_PROXY") }
            do {
                _ = try ProxyServer(parsing: leaky, source: "HTTPS_PROXY")
            } catch {
                #expect(!error.description.contains("hun"), "\(error.description)")
            }
            #expect(!APIError.withoutUserInfo(leaky).contains("hun"))
        }
        // An @ inside a query: the query goes, token and all.
        let shown = APIError.withoutUserInfo("https://api.example/v1?contact=a@b.example&token=hunter2")
        #expect(!shown.contains("hunter2") && !shown.contains("b.example"), "\(shown)")
        for bad in ["https://proxy.corp:3128", "socks5://proxy.corp", "http://:3128", "http://proxy.corp:99999"] {
            do {
                _ = try ProxyServer(
                    parsing: bad.replacingOccurrences(of: "://", with: "://u:hunter2@"), source: "HTTPS_PROXY")
                Issue.record("\(bad) was accepted")
            } catch {
                #expect(error.description.contains("HTTPS_PROXY"))
                #expect(!error.description.contains("hunter2"), "\(error.description)")
            }
        }
    }

    @Test(
        "NO_PROXY: names match themselves and their subdomains, a leading dot is ignored, IPs and CIDR ranges, *",
        arguments: [
            ("verilock.io", "verilock.io", true), ("verilock.io", ".verilock.io", true),
            ("api.verilock.io", "verilock.io", true), ("api.verilock.io", ".VERILOCK.io", true),
            ("notverilock.io", "verilock.io", false), ("verilock.io", "api.verilock.io", false),
            ("verilock.io", "example.com, verilock.io", true), ("verilock.io", " , ,", false),
            ("10.1.2.3", "10.0.0.0/8", true), ("11.1.2.3", "10.0.0.0/8", false), ("10.1.2.3", "10.1.2.3", true),
            ("10.1.2.3", "2.3", false), ("anything.example", "*", true), ("verilock.io.", "verilock.io", true),
        ])
    func noProxy(host: String, list: String, direct: Bool) {
        #expect(NoProxyList(list).matches(host: host) == direct)
    }

    @Test("NO_PROXY sends the matching host direct; no_proxy wins over NO_PROXY")
    func noProxyVariable() throws {
        let environment = ["HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": "internal,verilock.io"]
        #expect(try proxy(environment) == nil)
        #expect(try proxy(environment.merging(["no_proxy": "internal"]) { $1 }) == "http://proxy.corp:3128")
    }

    @Test("api.proxy overrides the environment, NO_PROXY included; none goes direct")
    func jobSetting() throws {
        let environment = ["HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": "verilock.io"]
        #expect(
            try proxy(environment, setting: ProxySetting(parsing: "http://job.corp:8080")) == "http://job.corp:8080")
        #expect(
            try proxy(environment.merging(["NO_PROXY": ""]) { $1 }, setting: ProxySetting(parsing: " None ")) == nil)
    }

    @Test("plain http (loopback) skips the environment's proxy; the key over plain http through api.proxy is refused")
    func plainHTTP() throws {
        let local = try Self.url("http://127.0.0.1:8080/api/v1")
        #expect(try proxy(["HTTPS_PROXY": "http://proxy.corp:3128", "ALL_PROXY": "http://p:1"], url: local) == nil)
        #expect(throws: APIError.self) {
            try proxy([:], url: local, setting: ProxySetting(parsing: "http://proxy.corp:3128"))
        }
        #expect(
            try proxy([:], url: local, setting: ProxySetting(parsing: "http://proxy.corp:3128"), carriesKey: false)
                == "http://proxy.corp:3128")
    }

    @Test("api.ca_file: a missing file or one without a certificate is refused, naming it")
    func caFile() throws {
        let folder = TemporaryDirectory()
        let empty = folder.write("empty.pem", "not a certificate\n")
        let api = try Self.url()
        for path in [folder.path + "/missing.pem", empty] {
            do {
                _ = try HTTPRoute.resolve(for: api, setting: nil, caFile: path, environment: [:], carriesKey: true)
                Issue.record("\(path) was accepted")
            } catch {
                #expect(error.description.contains(path))
                #expect(ExitStatus(for: error) == .invalidJob)
            }
        }
    }
}
