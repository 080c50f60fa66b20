import Testing

@testable import VerilockBatch

@Suite("CSV output")
struct CSVFormatTests {
    func field(_ value: String, escape: Bool = true) -> String {
        var out: [UInt8] = []
        CSVFormat.appendField(value, escapeFormulas: escape, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test(
        "fields a spreadsheet would run as a formula get a leading quote",
        arguments: [
            ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""), ("+1", "'+1"), ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"), ("plain", "plain"),
        ])
    func formulas(value: String, expected: String) {
        #expect(field(value) == expected)
    }

    @Test("quoting follows RFC 4180")
    func quoting() {
        #expect(field("a,b") == "\"a,b\"")
        #expect(field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(field("two\nlines") == "\"two\nlines\"")
        #expect(field("-5", escape: false) == "-5")
    }
}
