import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import VerilockSimulator

@Suite("Simulator routes")
struct SimulatorRoutesTests {
    static let profile = "7f3c2a10-5d4e-4b8a-9c61-2e0f8d9b3a47"
    static let key = SimulatorConfiguration.defaultAPIKey

    static func headers(key: String? = key, idempotencyKey: String? = nil) -> HTTPFields {
        var fields = HTTPFields()
        if let key { fields[.authorization] = "Bearer \(key)" }
        fields[.contentType] = "application/json"
        if let idempotencyKey, let name = HTTPField.Name("Idempotency-Key") { fields[name] = idempotencyKey }
        return fields
    }

    static func header(_ response: TestResponse, _ name: String) -> String? {
        HTTPField.Name(name).flatMap { response.headers[$0] }
    }

    static func json(_ buffer: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] ?? [:]
    }

    /// Runs `body` against a simulator in router mode.
    func withSimulator(
        _ configuration: SimulatorConfiguration = SimulatorConfiguration(profiles: [profile], rateLimitPerMinute: 6000),
        _ body: @escaping @Sendable (any TestClientProtocol, SimulatorState) async throws -> Void
    ) async throws {
        let state = SimulatorState(configuration: configuration)
        let app = buildSimulator(configuration: configuration, state: state)
        try await app.test(.router) { client in try await body(client, state) }
    }

    static func create(_ fields: String) -> ByteBuffer {
        ByteBuffer(string: "{\"profile_id\":\"\(profile)\"\(fields.isEmpty ? "" : ",")\(fields)}")
    }

    @Test("a valid create answers 201 with a session and rate-limit headers")
    func created() async throws {
        try await withSimulator { client, state in
            try await client.execute(
                uri: "/api/v1/sessions", method: .post, headers: Self.headers(),
                body: Self.create(#""external_id":"u-1","applicant_email":"a@example.com","expires_in":600"#)
            ) { response in
                #expect(response.status == .created)
                let body = Self.json(response.body)
                #expect((body["id"] as? String)?.hasPrefix("ses_") == true)
                #expect((body["session_url"] as? String)?.contains("/verify/tok_") == true)
                #expect(body["status"] as? String == "created")
                #expect(Self.header(response, "X-RateLimit-Limit") == "6000")
                #expect(Self.header(response, "X-Request-Id") != nil)
            }
            #expect(await state.sessionCount == 1)
        }
    }

    @Test("a missing or wrong key answers 401 with the documented error body")
    func unauthorized() async throws {
        try await withSimulator { client, _ in
            for key in [nil, "qi_test_wrong"] {
                try await client.execute(
                    uri: "/api/v1/sessions", method: .post, headers: Self.headers(key: key), body: Self.create("")
                ) { response in
                    #expect(response.status == .unauthorized)
                    let body = Self.json(response.body)
                    #expect(body["error"] as? String == "unauthorized")
                    #expect(body["message"] is String)
                    #expect(body.keys.contains("details"))
                }
            }
        }
    }

    @Test(
        "invalid fields answer 422 with field errors",
        arguments: [
            (#""expires_in":true"#, "expires_in"), (#""expires_in":10"#, "expires_in"),
            (#""redirect_url":"not a url""#, "redirect_url"), (#""applicant_email":"nope""#, "applicant_email"),
            (#""metadata":[1]"#, "metadata"), (#""surprise":1"#, "surprise"),
        ])
    func validation(fields: String, field: String) async throws {
        try await withSimulator { client, state in
            try await client.execute(
                uri: "/api/v1/sessions", method: .post, headers: Self.headers(), body: Self.create(fields)
            ) { response in
                #expect(response.status == .unprocessableContent)
                let body = Self.json(response.body)
                #expect(body["error"] as? String == "validation_error")
                #expect((body["details"] as? [String: Any])?[field] != nil)
            }
            #expect(await state.sessionCount == 0)
        }
    }

    @Test("an unknown profile answers 404")
    func unknownProfile() async throws {
        try await withSimulator { client, _ in
            try await client.execute(
                uri: "/api/v1/sessions", method: .post, headers: Self.headers(),
                body: ByteBuffer(string: #"{"profile_id":"00000000-0000-4000-8000-000000000000"}"#)
            ) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("the same Idempotency-Key replays the first answer; a different body with it answers 422")
    func idempotency() async throws {
        try await withSimulator { client, state in
            var ids: [String] = []
            for _ in 0..<2 {
                try await client.execute(
                    uri: "/api/v1/sessions", method: .post, headers: Self.headers(idempotencyKey: "k-1"),
                    body: Self.create(#""external_id":"u-1""#)
                ) { response in
                    #expect(response.status == .created)
                    ids.append(Self.json(response.body)["id"] as? String ?? "")
                }
            }
            #expect(ids[0] == ids[1])
            try await client.execute(
                uri: "/api/v1/sessions", method: .post, headers: Self.headers(idempotencyKey: "k-1"),
                body: Self.create(#""external_id":"u-2""#)
            ) { response in
                #expect(response.status == .unprocessableContent)
                #expect(Self.json(response.body)["error"] as? String == "idempotency_key_reused")
            }
            let stats = await state.currentStats()
            #expect(stats.sessionsCreated == 1)
            #expect(stats.idempotentReplays == 1)
            #expect(stats.duplicates.isEmpty)
        }
    }

    @Test("past the window's budget the key gets 429 with Retry-After and details.retry_after")
    func rateLimit() async throws {
        let configuration = SimulatorConfiguration(profiles: [Self.profile], rateLimitPerMinute: 3)
        try await withSimulator(configuration) { client, state in
            var statuses: [HTTPResponse.Status] = []
            for index in 0..<4 {
                try await client.execute(
                    uri: "/api/v1/sessions", method: .post, headers: Self.headers(),
                    body: Self.create(#""external_id":"r-\#(index)""#)
                ) { response in
                    statuses.append(response.status)
                    if response.status == .tooManyRequests {
                        let retryAfter = Int(Self.header(response, "Retry-After") ?? "") ?? 0
                        #expect((1...60).contains(retryAfter))
                        #expect(Self.header(response, "X-RateLimit-Remaining") == "0")
                        let details = Self.json(response.body)["details"] as? [String: Any]
                        #expect(details?["retry_after"] as? Int == retryAfter)
                    }
                }
            }
            // A window boundary can fall between the requests; at most one 429 then.
            #expect(statuses.filter { $0 == .created }.count >= 3)
            #expect(await state.currentStats().rateLimited == statuses.filter { $0 == .tooManyRequests }.count)
        }
    }

    @Test("sessions are listed by external_id; the admin route reports duplicates")
    func listAndDuplicates() async throws {
        try await withSimulator { client, _ in
            for _ in 0..<2 {
                try await client.execute(
                    uri: "/api/v1/sessions", method: .post, headers: Self.headers(),
                    body: Self.create(#""external_id":"dup-1""#))
            }
            try await client.execute(uri: "/api/v1/sessions?external_id=dup-1", method: .get, headers: Self.headers()) {
                response in
                let body = Self.json(response.body)
                let data = body["data"] as? [[String: Any]] ?? []
                #expect(data.count == 2)
                #expect(data.allSatisfy { $0["external_id"] as? String == "dup-1" })
                #expect((body["meta"] as? [String: Any])?["total"] as? Int == 2)
            }
            try await client.execute(uri: "/_admin/stats", method: .get) { response in
                let stats = try JSONDecoder().decode(SimulatorStats.self, from: Data(response.body.readableBytesView))
                #expect(stats.duplicates == ["dup-1": 2])
                #expect(stats.sessionsCreated == 2)
            }
        }
    }

    @Test("moving the clock expires sessions")
    func clock() async throws {
        try await withSimulator { client, _ in
            var id = ""
            try await client.execute(
                uri: "/api/v1/sessions", method: .post, headers: Self.headers(),
                body: Self.create(#""external_id":"e-1","expires_in":300"#)
            ) { response in id = Self.json(response.body)["id"] as? String ?? "" }
            try await client.execute(uri: "/_admin/clock?advance=301", method: .post)
            try await client.execute(uri: "/api/v1/sessions/\(id)", method: .get, headers: Self.headers()) { response in
                #expect(Self.json(response.body)["status"] as? String == "expired")
            }
        }
    }
}
