import Foundation

/// The per-row rules of DESIGN.md section 3, each returning the message a rejected row carries.
public enum RowValidation {
    /// Longest accepted external_id, in characters.
    public static let maxExternalIDLength = 255
    /// Largest accepted metadata object, in bytes of its JSON encoding.
    public static let maxMetadataBytes = 16 * 1024
    /// Deepest accepted metadata nesting.
    public static let maxMetadataDepth = 16
    /// Accepted link lifetimes, in seconds.
    public static let expiresInRange = 300...86400

    /// Checks an external_id (already trimmed); nil when it is acceptable.
    public static func externalIDProblem(_ value: String) -> String? {
        if value.isEmpty { return "external_id is empty" }
        // UTF-8 bytes are at least as many as characters: count characters only when needed.
        if value.utf8.count > maxExternalIDLength, value.count > maxExternalIDLength {
            return "external_id is \(value.count) characters long; at most \(maxExternalIDLength) are allowed"
        }
        if hasControlCharacter(value) {
            return "external_id \(quoted(value)) contains a control character"
        }
        // An invisible character (a byte-order mark, a zero-width space, a direction mark) or
        // U+FFFD would make one applicant look like two.
        if value.utf8.contains(where: { $0 >= 0x80 }),
            let hidden = value.unicodeScalars.first(where: {
                $0.properties.generalCategory == .format || $0 == "\u{FFFD}"
            })
        {
            return "external_id \(quoted(value)) contains an invisible character ("
                + String(format: "U+%04X", hidden.value) + ") that would make one "
                + "applicant look like two: remove it from the file"
        }
        return nil
    }

    /// Checks an e-mail address; nil when it looks like one: one `@` with text before it, a
    /// domain with an inner dot after it, no blanks or control characters, at most 254 bytes.
    public static func emailProblem(_ value: String) -> String? {
        let bytes = value.utf8
        var at: String.UTF8View.Index?
        var atCount = 0
        var ascii = true
        for index in bytes.indices {
            let byte = bytes[index]
            if byte == UInt8(ascii: "@") {
                atCount += 1
                at = index
            } else if byte <= 0x20 || byte == 0x7F {
                return invalidEmail(value)
            } else if byte >= 0x80 {
                ascii = false
            }
        }
        guard atCount == 1, let at, at != bytes.startIndex, bytes.count <= 254 else { return invalidEmail(value) }
        let domain = bytes[bytes.index(after: at)...]
        guard let first = domain.first, let last = domain.last, first != UInt8(ascii: "."), last != UInt8(ascii: "."),
            domain.contains(UInt8(ascii: "."))
        else { return invalidEmail(value) }
        if !ascii && value.unicodeScalars.contains(where: { $0.properties.isWhitespace || isControl($0) }) {
            return invalidEmail(value)
        }
        return nil
    }

    private static func invalidEmail(_ value: String) -> String {
        "applicant_email \(quoted(value)) is not an e-mail address"
    }

    /// Whether `value` holds a control character; a byte scan, with Unicode properties only for
    /// non-ASCII text.
    static func hasControlCharacter(_ value: String, allowingTab: Bool = false) -> Bool {
        var ascii = true
        for byte in value.utf8 {
            if (byte < 0x20 && !(allowingTab && byte == 0x09)) || byte == 0x7F { return true }
            if byte >= 0x80 { ascii = false }
        }
        return !ascii && value.unicodeScalars.contains { isControl($0) && !(allowingTab && $0 == "\t") }
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control
    }

    /// Checks a link lifetime; nil when it is in range.
    public static func expiresInProblem(_ value: Int) -> String? {
        expiresInRange.contains(value)
            ? nil
            : "expires_in \(value) is out of range: it must be between \(expiresInRange.lowerBound) and "
                + "\(expiresInRange.upperBound) seconds"
    }

    /// Checks a redirect URL; nil when it is an absolute http(s) URL.
    public static func redirectURLProblem(_ value: String) -> String? {
        guard let url = URL(string: value), let scheme = url.scheme?.lowercased(),
            scheme == "https" || scheme == "http", let host = url.host, !host.isEmpty
        else {
            return "redirect_url \(quoted(value)) is not an absolute http(s) URL"
        }
        return nil
    }

    /// Checks a text field (a name, a URL, a metadata string) for control characters other than
    /// tab, however they were written (a JSON `\u0000` included); nil when it has none.
    public static func textProblem(_ field: String, _ value: String) -> String? {
        hasControlCharacter(value, allowingTab: true) ? "\(field) \(quoted(value)) contains a control character" : nil
    }

    /// The first control character problem in a metadata value's strings (keys included).
    static func metadataTextProblem(_ value: JSONValue, path: String = "metadata") -> String? {
        switch value {
        case .string(let text): return textProblem(path, text)
        case .array(let items):
            for item in items { if let problem = metadataTextProblem(item, path: path) { return problem } }
            return nil
        case .object(let members):
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                if let problem = textProblem("\(path) key", key) ?? metadataTextProblem(member, path: "\(path).\(key)")
                {
                    return problem
                }
            }
            return nil
        default: return nil
        }
    }

    /// Checks a metadata object's size and depth; nil when it is acceptable.
    public static func metadataProblem(_ value: [String: JSONValue]) -> String? {
        let object = JSONValue.object(value)
        let size = object.canonicalBytes.count
        if size > maxMetadataBytes { return "metadata is \(size) bytes; at most \(maxMetadataBytes) are allowed" }
        if object.depth > maxMetadataDepth { return "metadata is nested deeper than \(maxMetadataDepth) levels" }
        return nil
    }

    /// A value quoted for a message, cut to a readable length.
    static func quoted(_ value: String) -> String {
        let limit = 80
        let shown = value.count > limit ? String(value.prefix(limit)) + "…" : value
        let escaped = shown.unicodeScalars.map { scalar in
            scalar.properties.generalCategory == .control ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }.joined()
        return "'\(escaped)'"
    }
}
