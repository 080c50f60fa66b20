import Testing

@testable import VerilockBatch

@Suite("NDJSON reader")
struct NDJSONReaderTests {
    func read(_ text: String, chunkSize: Int = 5, maxRecordBytes: Int = 1 << 20) throws -> [RawRecord] {
        let folder = TemporaryDirectory()
        let path = folder.write("input.ndjson", text)
        var reader = NDJSONReader(
            source: try ByteChunkReader(path: path, chunkSize: chunkSize), maxRecordBytes: maxRecordBytes)
        var records: [RawRecord] = []
        while let record = try reader.next() { records.append(record) }
        return records
    }

    func object(_ record: RawRecord) -> [String: JSONValue]? {
        if case .object(let members) = record.content { return members }
        return nil
    }

    func problem(_ record: RawRecord) -> String? {
        if case .malformed(let reason) = record.content { return reason }
        return nil
    }

    @Test("objects keep their JSON types and line numbers; blank lines are skipped")
    func objects() throws {
        let records = try read("{\"id\":\"a\",\"n\":5}\n\n  \n{\"id\":7,\"ok\":true,\"m\":{\"x\":[1,2]}}\r\n")
        #expect(records.map(\.line) == [1, 4])
        #expect(object(records[0]) == ["id": .string("a"), "n": .integer(5)])
        #expect(
            object(records[1]) == [
                "id": .integer(7), "ok": .bool(true), "m": .object(["x": .array([.integer(1), .integer(2)])]),
            ])
    }

    @Test(
        "a line that is not a JSON object is rejected with the reason",
        arguments: [
            ("{\"id\":", "the line is not valid JSON"),
            ("[1,2]", "the line is a JSON array, not an object"),
            ("\"text\"", "the line is a JSON string, not an object"),
            ("42", "the line is a JSON number, not an object"),
        ])
    func notAnObject(line: String, reason: String) throws {
        let records = try read("{\"id\":\"a\"}\n\(line)\n{\"id\":\"b\"}\n")
        #expect(records.count == 3)
        #expect(problem(records[1])?.hasPrefix(reason) == true, "\(String(describing: problem(records[1])))")
        #expect(records[1].line == 2)
        #expect(object(records[2]) == ["id": .string("b")])
    }

    @Test("a line over the size limit is skipped to its end and reported")
    func oversizedLine() throws {
        let big = "{\"id\":\"" + String(repeating: "y", count: 3000) + "\"}"
        let records = try read("\(big)\n{\"id\":\"ok\"}", chunkSize: 256, maxRecordBytes: 1000)
        #expect(problem(records[0]) == "the line is larger than 1000 bytes")
        #expect(object(records[1]) == ["id": .string("ok")])
        #expect(records.map(\.line) == [1, 2])
    }

    @Test("bare-CR, CRLF and LF line ends give the same records on the same lines", arguments: [1, 2, 5, 4096])
    func lineEnds(chunkSize: Int) throws {
        let lines = [#"{"id":"a"}"#, "", #"{"id":"b"}"#, #"{"id":"c"}"#]
        let expected = try read(lines.joined(separator: "\n"), chunkSize: chunkSize)
        #expect(expected.map(\.line) == [1, 3, 4])
        for end in ["\r", "\r\n"] {
            let found = try read(lines.joined(separator: end) + end, chunkSize: chunkSize)
            #expect(found.map(\.line) == expected.map(\.line), "\(end.debugDescription)")
            #expect(found.map(object) == expected.map(object), "\(end.debugDescription)")
        }
    }

    @Test("bytes that are not UTF-8 stop the file, naming its line")
    func invalidUTF8() throws {
        let folder = TemporaryDirectory()
        let bytes = Array("{\"id\":\"a\"}\n{\"id\":\"".utf8) + [0xFF] + Array("\"}\n".utf8)
        let path = folder.write("bad.ndjson", bytes: bytes)
        var reader = NDJSONReader(source: try ByteChunkReader(path: path))
        #expect(throws: InputError.wrongEncoding(path: path, line: 2, byte: 0xFF, likely: .windows1252)) {
            while try reader.next() != nil {}
        }
    }
}

@Suite("Strict JSON in input rows")
struct StrictJSONTests {
    func map(_ line: String) -> Result<ApplicantRow, RowRejection> {
        let mapper = RowMapper(ndjsonMapping: ColumnMapping())
        let content: RawRecord.Content
        do {
            guard case .object(let members) = try StrictJSONParser.parse(Array(line.utf8)) else {
                return .failure(RowRejection(externalID: nil, message: "not an object"))
            }
            content = .object(members)
        } catch {
            return .failure(RowRejection(externalID: nil, message: error.reason))
        }
        return mapper.map(content)
    }

    @Test(
        "rejected: a float or exponent external_id, a duplicate key, an escaped control character, a number out of range",
        arguments: [
            #"{"external_id": 3004.0}"#, #"{"external_id": 1e3}"#, #"{"external_id": "a", "external_id": "b"}"#,
            #"{"external_id": "u-1", "applicant_name": "Ann\u0000Lee"}"#,
            #"{"external_id": "u-1", "applicant_email": "a@example.com\u000d"}"#,
            #"{"external_id": "u-1", "metadata": {"note": "x\u001by"}}"#,
            // Read as doubles, these would silently become other values.
            #"{"external_id": 92233720368547758070}"#, #"{"external_id": "u-1", "metadata": {"n": 1e999}}"#,
            // Invisible characters would make one applicant two.
            #"{"external_id": "\ufeffu-1"}"#, #"{"external_id": "u-1\u200b"}"#, #"{"external_id": "u-\u202e1"}"#,
            #"{"external_id": "u-1\ufffd"}"#,
        ])
    func rejected(line: String) {
        guard case .failure = map(line) else {
            Issue.record("\(line) was accepted")
            return
        }
    }

    @Test("accepted: an integer external_id, escapes, a tab in a name, unicode")
    func accepted() throws {
        let row = try map(#"{"external_id": 3004, "applicant_name": "Ann\tLee \u00e9\ud83d\ude00"}"#).get()
        #expect(row.externalID == "3004")
        #expect(row.name == "Ann\tLee é😀")
    }
}
