import Testing

@testable import VerilockBatch

@Suite("Row mapping and validation")
struct RowMapperTests {
    let header = ["user_id", "email", "first_name", "last_name", "plan", "ttl"]
    var mapping: ColumnMapping {
        ColumnMapping(
            sources: [
                .externalID: ["user_id"], .applicantEmail: ["email"], .applicantName: ["first_name", "last_name"],
                .expiresIn: ["ttl"],
            ],
            metadataColumns: ["plan"]
        )
    }

    func csv(_ cells: [String]) throws -> Result<ApplicantRow, RowRejection> {
        try RowMapper(csvHeader: header, mapping: mapping, path: "in.csv").map(.cells(cells))
    }

    @Test("CSV cells map to fields; names join with one space; empty cells are absent")
    func csvMapping() throws {
        let row = try csv([" u-1 ", "a@example.com", "Ana", "", "pro", ""]).get()
        #expect(
            row
                == ApplicantRow(
                    externalID: "u-1", email: "a@example.com", name: "Ana", metadata: ["plan": .string("pro")]))
        let full = try csv(["u-2", "", "Ana", "Silva", "", "600"]).get()
        #expect(full.name == "Ana Silva")
        #expect(full.email == nil)
        #expect(full.expiresIn == 600)
        #expect(full.metadata.isEmpty)
    }

    @Test(
        "bad rows are rejected with a message naming the field and the value",
        arguments: [
            (["", "a@example.com", "A", "B", "", ""], "external_id is missing"),
            (["u-1", "not-an-email", "A", "B", "", ""], "applicant_email 'not-an-email' is not an e-mail address"),
            (["u-1", "", "A", "B", "", "abc"], "expires_in 'abc' is not a whole number of seconds"),
            (
                ["u-1", "", "A", "B", "", "100"],
                "expires_in 100 is out of range: it must be between 300 and 86400 seconds"
            ),
            (["u\u{7}1", "", "A", "B", "", ""], "external_id 'u\\u{7}1' contains a control character"),
            (
                [String(repeating: "x", count: 256), "", "", "", "", ""],
                "external_id is 256 characters long; at most 255 are allowed"
            ),
        ])
    func rejections(cells: [String], message: String) throws {
        guard case .failure(let rejection) = try csv(cells) else {
            Issue.record("expected a rejection")
            return
        }
        #expect(rejection.message == message)
    }

    @Test("a ragged row names both cell counts")
    func ragged() throws {
        guard case .failure(let rejection) = try csv(["u-1", "a@example.com"]) else {
            Issue.record("expected a rejection")
            return
        }
        #expect(rejection.message == "the row has 2 cells but the header has 6")
    }

    @Test("a mapped column missing from the header is a file-level error")
    func missingColumn() {
        #expect(throws: InputError.self) {
            _ = try RowMapper(csvHeader: ["user_id", "email"], mapping: mapping, path: "in.csv")
        }
        #expect(throws: InputError.self) {
            _ = try RowMapper(csvHeader: ["id"], mapping: ColumnMapping(), path: "in.csv")
        }
    }

    @Test("NDJSON: an integer external_id becomes its digits; nested metadata passes unchanged")
    func ndjsonTypes() throws {
        let mapper = RowMapper(ndjsonMapping: ColumnMapping(sources: [.externalID: ["id"]], metadataColumns: ["tier"]))
        let nested: JSONValue = .object(["crm": .object(["tags": .array([.string("vip")])])])
        let row = try mapper.map(.object(["id": .integer(2002), "metadata": nested, "tier": .integer(3)])).get()
        #expect(row.externalID == "2002")
        #expect(row.metadata == ["crm": .object(["tags": .array([.string("vip")])]), "tier": .string("3")])
    }

    @Test(
        "NDJSON: each field must have its JSON type",
        arguments: [
            (["external_id": JSONValue.bool(true)], "external_id must be a string or an integer, not a boolean"),
            (["external_id": .string("a"), "expires_in": .bool(true)], "expires_in must be an integer, not a boolean"),
            (
                ["external_id": .string("a"), "expires_in": .string("600")],
                "expires_in must be an integer, not a string"
            ),
            (
                ["external_id": .string("a"), "applicant_email": .integer(5)],
                "applicant_email must be a string, not a number"
            ),
            (["external_id": .string("a"), "metadata": .array([])], "metadata must be an object, not a array"),
        ])
    func ndjsonWrongTypes(members: [String: JSONValue], message: String) {
        guard case .failure(let rejection) = RowMapper(ndjsonMapping: ColumnMapping()).map(.object(members)) else {
            Issue.record("expected a rejection")
            return
        }
        #expect(rejection.message == message)
    }

    @Test("metadata over 16 KiB is rejected")
    func metadataSize() {
        let big: JSONValue = .object(["blob": .string(String(repeating: "z", count: 17_000))])
        let result = RowMapper(ndjsonMapping: ColumnMapping()).map(
            .object(["external_id": .string("a"), "metadata": big]))
        guard case .failure(let rejection) = result else {
            Issue.record("expected a rejection")
            return
        }
        #expect(rejection.message.hasPrefix("metadata is 170"))
        #expect(rejection.externalID == "a")
    }
}
