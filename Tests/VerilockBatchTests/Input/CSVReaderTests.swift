import Testing

@testable import VerilockBatch

@Suite("CSV reader")
struct CSVReaderTests {
    /// Reads every record of `bytes`, with a tiny chunk size so records cross chunk boundaries.
    func read(_ bytes: [UInt8], chunkSize: Int = 3, maxRecordBytes: Int = 1 << 20) throws -> ([String], [RawRecord]) {
        let folder = TemporaryDirectory()
        let path = folder.write("input.csv", bytes: bytes)
        var reader = try CSVReader(
            source: try ByteChunkReader(path: path, chunkSize: chunkSize), maxRecordBytes: maxRecordBytes)
        var records: [RawRecord] = []
        while let record = try reader.next() { records.append(record) }
        return (reader.header, records)
    }

    func read(_ text: String, chunkSize: Int = 3) throws -> ([String], [RawRecord]) {
        try read(Array(text.utf8), chunkSize: chunkSize)
    }

    func cells(_ record: RawRecord) -> [String]? {
        if case .cells(let cells) = record.content { return cells }
        return nil
    }

    func problem(_ record: RawRecord) -> String? {
        if case .malformed(let reason) = record.content { return reason }
        return nil
    }

    @Test("plain records keep their physical line numbers", arguments: [1, 3, 7, 1 << 20])
    func plain(chunkSize: Int) throws {
        let (header, records) = try read("id,email\na,a@x.io\nb,b@x.io\n", chunkSize: chunkSize)
        #expect(header == ["id", "email"])
        #expect(records.map(\.line) == [2, 3])
        #expect(records.compactMap(cells) == [["a", "a@x.io"], ["b", "b@x.io"]])
    }

    @Test("a UTF-8 byte-order mark is dropped from the first header name")
    func byteOrderMark() throws {
        let (header, records) = try read([0xEF, 0xBB, 0xBF] + Array("id,name\n1,Zoë\n".utf8))
        #expect(header == ["id", "name"])
        #expect(records.compactMap(cells) == [["1", "Zoë"]])
    }

    @Test("CRLF line ends are removed, also after quoted cells")
    func crlf() throws {
        let (_, records) = try read("id,name\r\n1,\"Ann\"\r\n2,Bob\r\n")
        #expect(records.compactMap(cells) == [["1", "Ann"], ["2", "Bob"]])
        #expect(records.map(\.line) == [2, 3])
    }

    @Test("a newline inside quotes stays in the cell and counts as a physical line")
    func quotedNewline() throws {
        let (_, records) = try read("id,name\n1,\"Jonas\nErik\"\n2,Kira\n")
        #expect(records.compactMap(cells) == [["1", "Jonas\nErik"], ["2", "Kira"]])
        #expect(records.map(\.line) == [2, 4])
    }

    @Test("doubled quotes are one quote; delimiters inside quotes are data")
    func doubledQuotes() throws {
        let (_, records) = try read("id,name\n1,\"Eve \"\"Evie\"\", Jr.\"\n")
        #expect(records.compactMap(cells) == [["1", "Eve \"Evie\", Jr."]])
    }

    @Test("the delimiter is detected from the header", arguments: [";", "\t", ","])
    func delimiterDetection(delimiter: String) throws {
        let text =
            ["id", "email", "name"].joined(separator: delimiter) + "\n"
            + ["1", "a@x.io", "A, B"].joined(separator: delimiter) + "\n"
        let (header, records) = try read(
            delimiter == "," ? text.replacingOccurrences(of: "A, B", with: "\"A, B\"") : text)
        #expect(header == ["id", "email", "name"])
        #expect(records.compactMap(cells) == [["1", "a@x.io", "A, B"]])
    }

    @Test("blank lines are skipped without shifting line numbers")
    func blankLines() throws {
        let (_, records) = try read("id\n\n1\n\r\n\n2\n\n")
        #expect(records.compactMap(cells) == [["1"], ["2"]])
        #expect(records.map(\.line) == [3, 6])
    }

    @Test("the last record needs no line end")
    func noFinalNewline() throws {
        let (_, records) = try read("id,n\n1,a")
        #expect(records.compactMap(cells) == [["1", "a"]])
    }

    @Test("an unterminated quote is reported with the line where it opened")
    func unterminatedQuote() throws {
        let (_, records) = try read("id,name\n1,ok\n2,\"never closed\n3,x\n4,y\n")
        #expect(records.count == 2)
        #expect(problem(records[1]) == "a quoted cell opened on line 3 is never closed")
        #expect(records[1].line == 3)
    }

    @Test("a stray quote in an unquoted cell rejects that record only")
    func strayQuote() throws {
        let (_, records) = try read("id,name\n1,Ann \"A\" Lee\n2,Bob\n")
        #expect(problem(records[0])?.contains("quote inside an unquoted cell") == true)
        #expect(cells(records[1]) == ["2", "Bob"])
    }

    @Test("a NUL byte rejects the record and names the cell")
    func nulByte() throws {
        let (_, records) = try read(Array("id,name\n2,a".utf8) + [0] + Array("\n3,ok\n".utf8))
        #expect(problem(records[0]) == "cell 2 contains a NUL byte")
        #expect(cells(records[1]) == ["3", "ok"])
    }

    @Test(
        "bytes that are not UTF-8 stop the file with its line, the byte and the likely encoding",
        arguments: [1, 3, 7, 1 << 20])
    func notUTF8(chunkSize: Int) throws {
        let bytes = Array("id,name\r\n1,ok\r\n2,Ren".utf8) + [0xE9] + Array("e\r\n3,ok\r\n".utf8)
        #expect {
            _ = try read(bytes, chunkSize: chunkSize)
        } throws: { error in
            guard case InputError.wrongEncoding(_, line: 3, byte: 0xE9, likely: .windows1252) = error else {
                return false
            }
            return "\(error)".contains("input.csv:3: the file is not UTF-8: byte 0xE9")
        }
    }

    @Test("a file that is a quarter NUL bytes is named UTF-16 without a byte-order mark")
    func utf16WithoutMark() throws {
        let bytes = Array("id,name\n1,Ann\n".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        #expect {
            _ = try read(bytes, chunkSize: 5)
        } throws: { error in
            guard case InputError.wrongEncoding(_, line: 1, byte: 0, likely: .utf16) = error else { return false }
            return "\(error)".contains("input.encoding: utf-16")
        }
    }

    @Test("a record over the size limit is rejected without being held, and reading goes on")
    func oversizedRecord() throws {
        let big = String(repeating: "x", count: 5000)
        let (_, records) = try read(Array("id,v\n1,\(big)\n2,ok\n".utf8), chunkSize: 512, maxRecordBytes: 1000)
        #expect(problem(records[0]) == "the record is larger than 1000 bytes")
        #expect(cells(records[1]) == ["2", "ok"])
        #expect(records.map(\.line) == [2, 3])
    }

    @Test("an empty file is a file-level error naming the file")
    func emptyFile() throws {
        let folder = TemporaryDirectory()
        let path = folder.write("empty.csv", "")
        #expect(
            throws: InputError.malformed(
                path: path, line: 1, reason: "the file is empty: a CSV input needs a header row")
        ) {
            _ = try CSVReader(source: try ByteChunkReader(path: path))
        }
    }

    @Test("a missing file is reported as missing")
    func missingFile() {
        #expect(throws: InputError.missing(path: "/nonexistent/x.csv")) {
            _ = try ByteChunkReader(path: "/nonexistent/x.csv")
        }
    }
}

@Suite("CSV line ends")
struct CSVLineEndTests {
    func records(_ text: String) throws -> [RawRecord] {
        let folder = TemporaryDirectory()
        let path = folder.write("in.csv", text)
        var reader = try CSVReader(source: try ByteChunkReader(path: path, chunkSize: 7))
        var records: [RawRecord] = []
        while let record = try reader.next() { records.append(record) }
        return records
    }

    @Test("bare-CR, LF and CRLF files give the same records on the same lines")
    func sameRecords() throws {
        let rows = ["external_id,applicant_email", "u-1,a@example.com", "\"u-2\",\"b\rx\"", "", "u-3,c@example.com"]
        let lf = try records(rows.joined(separator: "\n") + "\n")
        let crlf = try records(rows.joined(separator: "\r\n") + "\r\n")
        let cr = try records(rows.joined(separator: "\r") + "\r")
        #expect(lf.count == 3)
        #expect(crlf.map(\.line) == lf.map(\.line))
        #expect("\(crlf.map(\.content))" == "\(lf.map(\.content))")
        #expect("\(cr.map(\.content))" == "\(lf.map(\.content))")
        // In a CR file the CR inside the quoted cell is a line break too: u-3 is on line 6.
        #expect(cr.map(\.line) == [2, 3, 6])
        guard case .cells(let cells) = cr[0].content else {
            Issue.record("expected cells, got \(cr[0].content)")
            return
        }
        #expect(cells == ["u-1", "a@example.com"])
    }

    @Test("a bare LF inside an unquoted cell of a CR file is a rejected record, not a split")
    func bareLFInside() throws {
        let found = try records("external_id,applicant_name\ru-1,Ann\nOne\ru-2,Bo\r")
        #expect(found.count == 2)
        guard case .malformed(let reason) = found[0].content else {
            Issue.record("expected a rejection, got \(found[0].content)")
            return
        }
        #expect(reason.contains("line feed"))
        #expect(found[1].line == 4)
    }

    @Test("a bare CR inside an unquoted cell of an LF file is a rejected record, not a cut")
    func bareCRInside() throws {
        let found = try records("external_id,applicant_name\nu-1,Ann\rLee\nu-2,Bo\n")
        #expect(found.count == 2)
        guard case .malformed(let reason) = found[0].content else {
            Issue.record("expected a rejection, got \(found[0].content)")
            return
        }
        #expect(reason.contains("carriage return"))
        #expect(found[1].line == 3)
    }
}

@Suite("Input encodings")
struct InputEncodingTests {
    static let text = "external_id,applicant_name\nu-1,Zoë Brontë\nu-2,Ærø – “Quoted” €\n"

    func cells(_ bytes: [UInt8], encoding: InputEncoding = .utf8, chunk: Int = 5) throws -> [[String]] {
        let folder = TemporaryDirectory()
        let path = folder.write("in.csv", bytes: bytes)
        var reader = try CSVReader(source: try ByteChunkReader(path: path, chunkSize: chunk, encoding: encoding))
        var rows = [reader.header]
        while let record = try reader.next() {
            guard case .cells(let cells) = record.content else {
                Issue.record("line \(record.line): \(record.content)")
                continue
            }
            rows.append(cells)
        }
        return rows
    }

    @Test("UTF-16 with a byte-order mark (either order) reads like its UTF-8 twin, whatever the chunk size")
    func utf16() throws {
        let expected = try cells(Array(Self.text.utf8))
        var little: [UInt8] = [0xFF, 0xFE]
        var big: [UInt8] = [0xFE, 0xFF]
        for unit in Self.text.utf16 {
            little += [UInt8(unit & 0xFF), UInt8(unit >> 8)]
            big += [UInt8(unit >> 8), UInt8(unit & 0xFF)]
        }
        for chunk in [1, 3, 7, 4096] {
            #expect(try cells(little, chunk: chunk) == expected, "chunk \(chunk)")
            #expect(try cells(big, chunk: chunk) == expected, "chunk \(chunk)")
        }
        #expect(expected[2] == ["u-2", "Ærø – “Quoted” €"])
    }

    @Test("Windows-1252 with input.encoding reads like its UTF-8 twin")
    func windows1252() throws {
        let expected = try cells(Array(Self.text.utf8))
        var bytes: [UInt8] = []
        for scalar in Self.text.unicodeScalars {
            if scalar.value < 0x80 || (0xA0...0xFF).contains(scalar.value) {
                bytes.append(UInt8(scalar.value))
            } else if let index = InputEncoding.windows1252High.firstIndex(of: scalar.value) {
                bytes.append(UInt8(0x80 + index))
            } else {
                Issue.record("\(scalar) is not in Windows-1252")
            }
        }
        #expect(try cells(bytes, encoding: .windows1252) == expected)
    }

    @Test("Windows-1252's undefined bytes become C1 controls, which reject their row; other rows read on")
    func windows1252Undefined() throws {
        let folder = TemporaryDirectory()
        let path = folder.write(
            "in.csv", bytes: Array("external_id,applicant_name\nu-1,A".utf8) + [0x81] + Array("\nu-2,B\n".utf8))
        var reader = try CSVReader(source: try ByteChunkReader(path: path, encoding: .windows1252))
        let mapper = try RowMapper(
            csvHeader: reader.header,
            mapping: ColumnMapping(sources: [.externalID: ["external_id"], .applicantName: ["applicant_name"]]),
            path: path)
        let first = try #require(try reader.next())
        #expect(throws: RowRejection.self) { try mapper.map(first.content).get() }
        let second = try #require(try reader.next())
        #expect(try mapper.map(second.content).get().name == "B")
    }

    @Test("UTF-16 with an unpaired surrogate, or cut in half a unit, stops the file", arguments: [1, 3, 4096])
    func utf16Broken(chunk: Int) throws {
        let good = Array("id\nu-1\n".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        for broken in [[0xFF, 0xFE] + good + [0x3D, 0xD8, 0x41, 0x00], [0xFF, 0xFE] + good + [0x41]] {
            #expect {
                _ = try cells(broken, chunk: chunk)
            } throws: { error in
                guard case InputError.invalidUTF16 = error else { return false }
                return ExitStatus(for: error) == .unreadableInput
            }
        }
    }
}
