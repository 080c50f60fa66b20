import Foundation
import GRDB
import InMemoryLogging
import Logging
import Testing

@testable import VerilockBatch

/// Nothing secret leaves through an error: API error text echoing the request, malformed key
/// sources, and URLs that only look like loopback.
@Suite("Secrets in errors, key sources, loopback")
struct SecretLeakTests {
    static let key = "qi_test_S3cr3tK3yValue"

    /// A 422 (or 500) whose body echoes the whole request, as some gateways do.
    static func echoing(status: Int) -> FakeSessionsAPI {
        FakeSessionsAPI { request, _ in
            let echoed = String(decoding: request.body, as: UTF8.self)
            let message =
                "Invalid request. Authorization: Bearer \(key). Body: \(echoed). "
                + "Escaped: \(echoed.replacingOccurrences(of: "@", with: "%40"))"
            let body = try JSONSerialization.data(withJSONObject: [
                "error": "validation_error", "message": message,
                "details": ["applicant_email": ["\(echoed) is not allowed"]],
            ])
            return APIResponse(status: status, requestID: "req_\(key)", body: Array(body))
        }
    }

    @Test(
        "an API error that echoes the key and the row reaches no file, ledger column or summary", arguments: [422, 500])
    func echoedErrors(status: Int) async throws {
        var harness = RunnerHarness(
            inputs: [
                "a.csv":
                    "external_id,applicant_email,applicant_name,plan\nu-1,jane.doe@example.com,Jane Doe,Gold-Plan-77\n"
            ], concurrency: 1)
        harness.job.mapping.metadataColumns = ["plan"]
        harness.job.api.maxAttempts = 2
        let report = try await BatchRunner(
            job: harness.job, api: Self.echoing(status: status), clock: TestClock(), now: { Date() },
            jitter: { 0.5 }, secrets: [Self.key], logger: InMemoryLogHandler().logger()
        ).run()
        #expect(report.exitCode == (status == 422 ? 1 : 69))
        let rejects = try harness.rejectRows
        #expect(rejects.count == 1)
        let error = try #require(rejects.first?["error"])
        let ledger = try SQLiteLedger(path: harness.job.ledgerPath)
        let stored = try ledger.read { db in
            try Row.fetchOne(
                db, sql: "SELECT error_code, error_message, error_request_id FROM applicant WHERE external_id = 'u-1'")
        }
        let storedText = (0..<3).map { (stored?[$0] as String?) ?? "" }.joined(separator: " ")
        let reportText = String(decoding: try JSONEncoder().encode(report), as: UTF8.self) + report.summary
        for place in [error, storedText, reportText] {
            for secret in [Self.key, "S3cr3tK3yValue", "jane.doe", "Jane Doe", "Jane", "Gold-Plan-77", "example.com"] {
                #expect(!place.contains(secret), "\(secret) leaked into: \(place)")
            }
        }
        #expect(error.contains("HTTP \(status)"))
        #expect(error.count < 400)
        if status == 422 { #expect(error.contains("applicant_email")) }
    }

    @Test(
        "a key source with a second line, inner whitespace or a control character is refused, naming the source only",
        arguments: [
            "qi_test_abc\nqi_test_def", "qi_test_abc def", "qi_test_abc\u{0}", "qi_test_abc\r\nmore", " qi_test_abc",
        ])
    func malformedKeys(raw: String) throws {
        var thrown: APIError?
        do {
            _ = try APIKey.resolve(APISettings(), environment: ["VERILOCK_API_KEY": raw])
        } catch {
            thrown = error
        }
        let error = try #require(thrown)
        guard case .malformedKey(let source, _) = error else {
            Issue.record("expected a malformed key, got \(error)")
            return
        }
        #expect(source.contains("VERILOCK_API_KEY"))
        #expect(!error.description.contains("qi_test_abc"))
        #expect(ExitStatus(for: error) == .invalidJob)
    }

    @Test("a key file's trailing newline is trimmed; a second line is refused")
    func keyFileLines() throws {
        let folder = TemporaryDirectory()
        var settings = APISettings()
        settings.keyFile = folder.write("key", "qi_test_one\r\n")
        _ = chmod(settings.keyFile ?? "", 0o600)
        #expect(try APIKey.resolve(settings, environment: [:]) == "qi_test_one")
        settings.keyFile = folder.write("key2", "qi_test_one\nqi_test_two\n")
        _ = chmod(settings.keyFile ?? "", 0o600)
        #expect(throws: APIError.self) { _ = try APIKey.resolve(settings, environment: [:]) }
    }

    @Test("a key without a documented prefix is warned about, not refused")
    func unprefixedKey() throws {
        var warnings: [String] = []
        let key = try APIKey.resolve(APISettings(), environment: ["VERILOCK_API_KEY": "sk_abc123"]) {
            warnings.append($0)
        }
        #expect(key == "sk_abc123")
        #expect(warnings.count == 1)
        #expect(!warnings.joined().contains("sk_abc123"))
    }

    @Test(
        "plain http only for literal loopback addresses and localhost",
        arguments: [
            ("http://127.0.0.1:8080/api/v1", true), ("http://127.255.3.4/api", true), ("http://[::1]:9000/api", true),
            ("http://localhost/api", true), ("https://verilock.io/api/v1", true),
            ("http://127.evil.example/api", false), ("http://127.0.0.1.evil.example/api", false),
            ("http://127.0.0/api", false), ("http://127.0.0.256/api", false), ("http://localhost.evil/api", false),
            ("http://10.0.0.1/api", false), ("ftp://verilock.io", false),
        ])
    func loopback(url: String, allowed: Bool) {
        #expect(((try? APISettings.validateBaseURL(url)) != nil) == allowed, "\(url)")
        #expect(((try? APISettings.validateURL(url)) != nil) == allowed, "\(url) as a ping URL")
    }

    @Test(
        "a base URL with a query, a fragment or user info is refused, and the message hides the password",
        arguments: [
            "https://verilock.io/api/v1?x=1", "https://verilock.io/api/v1#top",
            "https://ops:hunter22@verilock.io/api/v1", "https://ops:p@hunter22@verilock.io/api",
            "https://u:hun/ter22@verilock.io/", "https://verilock.io:99999/api", "https://verilock.io/?k=hunter22",
            "https://hc-ping.com/abc#hunter22", #"https:\\user:hunter22@hc-ping.com/abc"#,
        ])
    func baseURLParts(url: String) {
        do {
            _ = try APISettings.validateBaseURL(url)
            Issue.record("\(url) was accepted")
        } catch {
            #expect(!error.description.contains("hunter22") && !error.description.contains("ter22"))
            #expect(ExitStatus(for: error) == .invalidJob)
        }
        #expect(throws: APIError.self, "as a ping URL") {
            _ = try Pinger(url: url, environment: [:], logger: Logger(label: "test"))
        }
    }

    @Test(
        "a key with an invisible, non-ASCII or C1 character, or ending in a bare CR, is refused",
        arguments: [
            "qi_test_abc\u{80}", "qi_test_abc\u{200B}", "qi_test_a\u{202E}bc", "\u{FEFF}qi_test_abc",
            "qi_test_abc\u{FFFD}",
            "qi_test_abc\r",
        ])
    func invisibleKeyCharacters(raw: String) {
        #expect(throws: APIError.self, "\(raw.unicodeScalars.map { String($0.value, radix: 16) })") {
            _ = try APIKey.resolve(APISettings(), environment: ["VERILOCK_API_KEY": raw])
        }
    }

    @Test("an echo in any spelling of the row's values: escaped, encoded, reordered, cut off")
    func spellings() {
        let redaction = ErrorRedaction(secrets: [Self.key])
        let personal = ["ana.silva@example.com", "José Müller", "Zoë Ng"]
        let echoes = [
            #"{"applicant_name": "Jos\u00e9 M\u00fcller"}"#, #"{"applicant_name": "JOS\u00C9 M\u00DCLLER"}"#,
            "name=Zo%C3%AB+Ng&x=1", "mail ana.silva&#64;example.com", "mail ana.silva@example (cut)", "Ng Zoë",
            "Müller, José",
        ]
        for echo in echoes {
            let text = redaction.redact(echo, personal: personal)
            for leaked in ["Jos", "ller", "LLER", "Zo", "Ng", "ana.silva", "silva"] {
                #expect(!text.contains(leaked), "\(echo) became \(text)")
            }
        }
        let encoded = Data("Bearer \(Self.key)".utf8).base64EncodedString()
        #expect(!redaction.redact("hdr=\(encoded)", personal: personal).contains(encoded))
        // Ordinary words that contain a short name part stay readable.
        #expect(redaction.redact("string length", personal: personal) == "string length")
        let failure = APIFailure(
            status: 500, code: nil, message: "x", requestID: "req-1\u{202E}Jos\u{FFFD} M\u{FFFD}ller")
        #expect(redaction.redact(failure, personal: personal).requestID == nil)
        let plain = APIFailure(status: 500, code: nil, message: "x", requestID: "req_01H:abc.def-9")
        #expect(redaction.redact(plain, personal: personal).requestID == "req_01H:abc.def-9")
    }

    @Test("a session whose id, token or link is malformed, or holds the key, is not usable")
    func malformedSessions() {
        let good = CreatedSession(
            id: "ses_01H-abc", sessionToken: "tok_1", sessionURL: "https://verilock.io/verify/tok_1", status: "created",
            expiresAt: nil)
        #expect(good.isWellFormed(secrets: [Self.key]))
        var bad: [CreatedSession] = []
        for (id, url) in [
            ("ses_Bearer \(Self.key)", "https://v.io/x"), ("ses_Bearer_\(Self.key)", "https://v.io/x"),
            ("ses_1", "https://v.io/\(Self.key)"), ("ses_1", "javascript:alert(1)"), ("ses_1", "https://v.io/a b"),
            ("", "https://v.io/x"), ("ses\u{202E}1", "https://v.io/x"), ("ses_1", "/relative"),
        ] {
            bad.append(CreatedSession(id: id, sessionToken: nil, sessionURL: url, status: nil, expiresAt: nil))
        }
        for session in bad {
            #expect(!session.isWellFormed(secrets: [Self.key]), "\(session.id) \(session.sessionURL)")
        }
    }
}
