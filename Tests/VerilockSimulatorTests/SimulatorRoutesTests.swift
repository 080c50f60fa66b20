import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
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
        let app = try buildSimulator(configuration: configuration, state: state)
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

    /// Creates a session for each of `externalIDs`; returns their ids in order.
    static func createAll(_ client: any TestClientProtocol, _ externalIDs: [String]) async throws -> [String] {
        var ids: [String] = []
        for externalID in externalIDs {
            try await client.execute(
                uri: "/api/v1/sessions", method: .post, headers: headers(),
                body: create(#""external_id":"\#(externalID)","expires_in":3600"#)
            ) { response in ids.append(json(response.body)["id"] as? String ?? "") }
        }
        return ids
    }

    /// `GET uri`'s JSON body and status.
    static func get(_ client: any TestClientProtocol, _ uri: String) async throws -> (
        HTTPResponse.Status, [String: Any]
    ) {
        try await client.execute(uri: uri, method: .get, headers: headers()) { ($0.status, json($0.body)) }
    }

    @Test("the list pages in creation order with meta as the SDK reads it, filters, and refuses bad filters with 422")
    func listPagesAndFilters() async throws {
        try await withSimulator { client, _ in
            let ids = try await Self.createAll(client, (0..<45).map { "p-\($0)" })
            var seen: [String] = []
            for page in 1...3 {
                let (status, body) = try await Self.get(client, "/api/v1/sessions?per_page=20&page=\(page)")
                #expect(status == .ok)
                let meta = body["meta"] as? [String: Any] ?? [:]
                #expect(meta["current_page"] as? Int == page && meta["last_page"] as? Int == 3)
                #expect(meta["per_page"] as? Int == 20 && meta["total"] as? Int == 45)
                seen += (body["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            }
            #expect(seen == ids)
            let (_, wide) = try await Self.get(client, "/api/v1/sessions?per_page=500")
            #expect((wide["meta"] as? [String: Any])?["per_page"] as? Int == 100)
            #expect((wide["data"] as? [Any])?.count == 45)
            let (_, created) = try await Self.get(client, "/api/v1/sessions?status=created&from=2000-01-01")
            #expect((created["meta"] as? [String: Any])?["total"] as? Int == 45)
            let (_, future) = try await Self.get(client, "/api/v1/sessions?from=2999-01-01")
            #expect((future["meta"] as? [String: Any])?["total"] as? Int == 0)
            let (_, past) = try await Self.get(client, "/api/v1/sessions?to=2000-01-01")
            #expect((past["meta"] as? [String: Any])?["total"] as? Int == 0)
            let (_, one) = try await Self.get(client, "/api/v1/sessions?external_id=p-7")
            #expect((one["data"] as? [[String: Any]])?.map { $0["id"] as? String } == [ids[7]])
            let (refused, errors) = try await Self.get(client, "/api/v1/sessions?status=done&from=yesterday")
            #expect(refused == .unprocessableContent)
            #expect(errors["error"] as? String == "validation_error")
            #expect(((errors["details"] as? [String: Any])?.keys).map(Set.init) == ["status", "from"])
        }
    }

    @Test("applicants play out the same story whatever the order, on the simulator's clock")
    func applicantsPlayOut() async throws {
        let applicants = ApplicantBehaviour(
            progressRate: 0.6, completeRate: 0.7, decisions: [.approved: 0.5, .declined: 0.3, .review: 0.2], seed: 42)
        let configuration = SimulatorConfiguration(rateLimitPerMinute: 60000, applicants: applicants)
        let externalIDs = (0..<120).map { "a-\($0)" }
        let collected = Mutex<[[String: String]]>([])
        for order in [externalIDs, externalIDs.reversed()] {
            try await withSimulator(configuration) { client, state in
                _ = try await Self.createAll(client, order)
                let (_, fresh) = try await Self.get(client, "/api/v1/sessions?per_page=100&status=created")
                #expect((fresh["meta"] as? [String: Any])?["total"] as? Int == 120)
                await state.advanceClock(by: 3601)
                var final: [String: String] = [:]
                for page in 1...2 {
                    let (_, body) = try await Self.get(client, "/api/v1/sessions?per_page=100&page=\(page)")
                    for item in body["data"] as? [[String: Any]] ?? [] {
                        let status = item["status"] as? String ?? "?"
                        #expect((status == "completed") == (item["decision"] as? String != nil))
                        #expect((status == "completed") == (item["completed_at"] as? String != nil))
                        final[item["external_id"] as? String ?? "?"] =
                            status + "/" + (item["decision"] as? String ?? "-")
                    }
                }
                collected.withLock { $0.append(final) }
            }
        }
        let outcomes = collected.withLock { $0 }
        #expect(outcomes[0].count == 120)
        #expect(outcomes[0] == outcomes[1])
        let statuses = Set(outcomes[0].values)
        #expect(statuses.isSubset(of: ["expired/-", "completed/approved", "completed/declined", "completed/review"]))
        #expect(statuses.count == 4)
        let completed = outcomes[0].values.filter { $0.hasPrefix("completed") }.count
        // 0.6 x 0.7 of 120 is 50.4; seed 42 gives a count well inside 30...70.
        #expect((30...70).contains(completed))
    }

    @Test("the admin route sets a session's status and decision; a bad body answers 422, an unknown id 404")
    func forceStatus() async throws {
        try await withSimulator { client, _ in
            let ids = try await Self.createAll(client, ["f-1"])
            try await client.execute(
                uri: "/_admin/sessions/\(ids[0])", method: .post,
                body: ByteBuffer(string: #"{"status":"completed","decision":"declined"}"#)
            ) { #expect($0.status == .ok) }
            let (_, detail) = try await Self.get(client, "/api/v1/sessions/\(ids[0])")
            #expect(detail["status"] as? String == "completed" && detail["decision"] as? String == "declined")
            #expect(detail["completed_at"] as? String != nil && detail["session_url"] as? String != nil)
            let (_, filtered) = try await Self.get(client, "/api/v1/sessions?decision=declined")
            #expect((filtered["meta"] as? [String: Any])?["total"] as? Int == 1)
            try await client.execute(
                uri: "/_admin/sessions/\(ids[0])", method: .post, body: ByteBuffer(string: #"{"status":"done"}"#)
            ) { #expect($0.status == .unprocessableContent) }
            try await client.execute(
                uri: "/_admin/sessions/ses_nobody", method: .post, body: ByteBuffer(string: #"{"status":"expired"}"#)
            ) { #expect($0.status == .notFound) }
        }
    }
}
