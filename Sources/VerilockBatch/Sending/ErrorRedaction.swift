import Foundation

/// The one filter every API failure passes before it is stored or printed: an API (or a gateway
/// in front of it) may echo the request in its error body, key and applicant included.
///
/// What is kept: the status, the error code, the request id (when it is a token), and
/// the API's message with field errors, where every occurrence of a secret (the API key), of
/// the row's own personal values (e-mail, name, metadata strings; raw, JSON-escaped with or
/// without `\u` for non-ASCII, percent- or form-encoded, any case), of each word of those values
/// (a name's parts in another order, an e-mail's local part), of anything shaped like an e-mail
/// address (`@`, `%40` or `&#64;`), a bearer token or a Verilock key is replaced, control and
/// invisible format characters become spaces, and the length is bounded.
public struct ErrorRedaction: Sendable {
    /// The longest message kept, in characters.
    static let maxMessageLength = 300
    /// The longest request id kept.
    static let maxRequestIDLength = 100
    /// Values shorter than this are not searched for (too likely to match ordinary words).
    static let minValueLength = 3

    let secrets: [String]

    /// A filter that also cuts out `secrets` (the API key).
    public init(secrets: [String] = []) {
        self.secrets = secrets.filter { !$0.isEmpty }
    }

    private static let patterns: [(NSRegularExpression, String)] = [
        (#"[A-Za-z0-9._%+\-]+(@|%40|&#64;|&#x40;)[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"#, "[e-mail]"),
        (#"(?i)bearer\s+[^\s"',;]+"#, "Bearer [redacted]"),
        (#"qi_(live|test)_[A-Za-z0-9_\-]+"#, "[key]"),
    ].compactMap { pattern, replacement in
        (try? NSRegularExpression(pattern: pattern)).map { ($0, replacement) }
    }

    /// `failure` with its message and request id filtered; `personal` are the row's values.
    func redact(_ failure: APIFailure, personal: [String]) -> APIFailure {
        var copy = failure
        copy.message = redact(failure.message, personal: personal)
        copy.code = failure.code.map { Self.bounded(Self.printable(redact($0, personal: personal)), 64) }
        // A request id is a token (ASCII letters, digits and . _ : -); anything else is not one.
        copy.requestID = failure.requestID.flatMap { id in
            id.isTokenText
                ? Self.bounded(redact(id, personal: personal), Self.maxRequestIDLength) : nil
        }
        return copy
    }

    /// `text` with every secret, personal value and secret-shaped token replaced, control
    /// characters turned into spaces, bounded in length.
    func redact(_ text: String, personal: [String]) -> String {
        var result = text
        for secret in secrets {
            result = Self.replacing(secret, in: result, with: "[key]")
            // An echo of the header, base64-encoded as some gateways log it.
            for form in [secret, "Bearer " + secret, ":" + secret, secret + ":"] {
                let encoded = Data(form.utf8).base64EncodedString()
                result = result.replacingOccurrences(of: encoded, with: "[key]")
                result = result.replacingOccurrences(of: encoded.trimmingCharacters(in: ["="]), with: "[key]")
            }
        }
        for value in personal where value.count >= Self.minValueLength {
            result = Self.replacing(value, in: result, with: "[redacted]")
        }
        for (expression, replacement) in Self.patterns {
            result = expression.stringByReplacingMatches(
                in: result, range: NSRange(result.startIndex..., in: result), withTemplate: replacement)
        }
        // Then each word of a value on its own, as a whole word: a name's parts in another order, the
        // local part of a cut-off e-mail address (not its domain: a redirect's host stays readable).
        for value in personal {
            for word in value.split(whereSeparator: \.isWhitespace) {
                let part = word.split(separator: "@", omittingEmptySubsequences: false).first ?? word
                guard part.count >= 2 else { continue }
                result = Self.replacingWord(String(part), in: result, with: "[redacted]")
            }
        }
        return Self.bounded(Self.printable(result), Self.maxMessageLength)
    }

    /// The personal values of a create request body: `applicant_email`, `applicant_name` and
    /// every string in `metadata`.
    static func personalValues(of body: [UInt8]) -> [String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return [] }
        var values: [String] = []
        for key in ["applicant_email", "applicant_name"] {
            if let value = object[key] as? String { values.append(value) }
        }
        func strings(in value: Any) {
            switch value {
            case let text as String: values.append(text)
            case let array as [Any]: array.forEach(strings)
            case let dictionary as [String: Any]: dictionary.values.forEach(strings)
            default: break
            }
        }
        if let metadata = object["metadata"] { strings(in: metadata) }
        return values
    }

    /// `value` as it may appear in an echo, as written, in lower and in upper case: raw,
    /// JSON-escaped (with and without `\u` escapes for non-ASCII, in either case of hex),
    /// percent-encoded, form-encoded.
    private static func forms(of value: String) -> Set<String> {
        Set([value, value.lowercased(), value.uppercased()].flatMap(spellings))
    }

    private static func spellings(of value: String) -> [String] {
        var forms = [value]
        if let data = try? JSONSerialization.data(withJSONObject: [value], options: [.fragmentsAllowed]),
            let escaped = String(data: data, encoding: .utf8)
        {
            forms.append(String(escaped.dropFirst(2).dropLast(2)))
        }
        for uppercase in [false, true] {
            forms.append(
                value.utf16.map { unit in
                    unit < 0x80
                        ? String(UnicodeScalar(UInt8(unit)))
                        : "\\u" + String(format: uppercase ? "%04X" : "%04x", unit)
                }.joined())
        }
        if let encoded = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) {
            forms.append(encoded)
            forms.append(encoded.replacingOccurrences(of: "%20", with: "+"))
        }
        if let encoded = value.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) { forms.append(encoded) }
        return forms.filter { !$0.isEmpty }
    }

    /// Replaces `word` in `text` where it stands as a whole word (no letter or digit on either
    /// side), in any case and in each of its ``forms(of:)``.
    private static func replacingWord(_ word: String, in text: String, with replacement: String) -> String {
        var result = text
        for form in forms(of: word) {
            let pattern =
                "(?i)(?<![\\p{L}\\p{N}])" + NSRegularExpression.escapedPattern(for: form) + "(?![\\p{L}\\p{N}])"
            guard let expression = try? NSRegularExpression(pattern: pattern) else { continue }
            result = expression.stringByReplacingMatches(
                in: result, range: NSRange(result.startIndex..., in: result),
                withTemplate: NSRegularExpression.escapedTemplate(for: replacement))
        }
        return result
    }

    /// Replaces `value` in `text`, in any case, also in each of its ``forms(of:)``.
    private static func replacing(_ value: String, in text: String, with replacement: String) -> String {
        var result = text
        for form in forms(of: value) {
            result = result.replacingOccurrences(of: form, with: replacement, options: .caseInsensitive)
        }
        return result
    }

    private static func printable(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.unicodeScalars.map {
                    [.control, .format].contains($0.properties.generalCategory) ? " " : $0
                }))
    }

    private static func bounded(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
