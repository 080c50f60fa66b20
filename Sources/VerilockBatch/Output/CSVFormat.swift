/// Writing CSV fields: RFC 4180 quoting, and spreadsheet-formula neutralisation.
public enum CSVFormat {
    /// Appends `value` as one CSV field.
    ///
    /// A field that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be run as a
    /// formula by a spreadsheet; with `escapeFormulas` it gets a leading `'` (the OWASP advice).
    public static func appendField(_ value: String, escapeFormulas: Bool, to out: inout [UInt8]) {
        var value = value
        value.withUTF8 { bytes in
            var neutralise = false
            if escapeFormulas, let first = bytes.first {
                neutralise =
                    first == UInt8(ascii: "=") || first == UInt8(ascii: "+") || first == UInt8(ascii: "-")
                    || first == UInt8(ascii: "@") || first == 0x09 || first == 0x0D
            }
            let needsQuotes = bytes.contains {
                $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D
            }
            guard needsQuotes else {
                // Nearly every field: copied as it is.
                if neutralise { out.append(UInt8(ascii: "'")) }
                out.append(contentsOf: bytes)
                return
            }
            out.append(UInt8(ascii: "\""))
            if neutralise { out.append(UInt8(ascii: "'")) }
            for byte in bytes {
                if byte == UInt8(ascii: "\"") { out.append(byte) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
    }

    /// Appends a whole record and its line end.
    public static func appendRecord(_ values: [String], escapeFormulas: Bool, to out: inout [UInt8]) {
        for (index, value) in values.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendField(value, escapeFormulas: escapeFormulas, to: &out)
        }
        out.append(UInt8(ascii: "\n"))
    }
}
