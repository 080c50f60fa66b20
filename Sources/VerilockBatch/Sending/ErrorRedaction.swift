import Foundation

/// The one filter every API failure passes before it is stored or printed: an API (or a gateway
/// in front of it) may echo the request in its error body, key and applicant included.
///
/// What is kept: the status, the error code, the request id, and the API's message with field
/// errors, where every occurrence of a secret (the API key), of the row's own personal values
/// (e-mail, name, metadata strings; raw, JSON-escaped, percent-encoded, any case), of anything
/// shaped like an e-mail address, a bearer token or a Verilock key is replaced, control
/// characters are dropped, and the length is bounded.
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
        (#"[A-Za-z0-9._%+\-]+(@|%40)[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"#, "[e-mail]"),
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
        copy.requestID = failure.requestID.map {
            Self.bounded(Self.printable(redact($0, personal: personal)), Self.maxRequestIDLength)
        }
        return copy
    }

    /// `text` with every secret, personal value and secret-shaped token replaced, control
    /// characters dropped, bounded in length.
    func redact(_ text: String, personal: [String]) -> String {
        var result = text
        for secret in secrets { result = Self.replacing(secret, in: result, with: "[key]") }
        for value in personal where value.count >= Self.minValueLength {
            result = Self.replacing(value, in: result, with: "[redacted]")
            for part in value.split(whereSeparator: \.isWhitespace) where part.count >= 4 && part.count < value.count {
                result = Self.replacing(String(part), in: result, with: "[redacted]")
            }
        }
        for (expression, replacement) in Self.patterns {
            result = expression.stringByReplacingMatches(
                in: result, range: NSRange(result.startIndex..., in: result), withTemplate: replacement)
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

    /// Replaces `value` in `text`, in any case, also in its JSON-escaped and percent-encoded forms.
    private static func replacing(_ value: String, in text: String, with replacement: String) -> String {
        var forms = [value]
        if let data = try? JSONSerialization.data(withJSONObject: [value], options: [.fragmentsAllowed]),
            let escaped = String(data: data, encoding: .utf8)
        {
            forms.append(String(escaped.dropFirst(2).dropLast(2)))
        }
        if let encoded = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) { forms.append(encoded) }
        if let encoded = value.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) { forms.append(encoded) }
        var result = text
        for form in Set(forms) where !form.isEmpty {
            result = result.replacingOccurrences(of: form, with: replacement, options: .caseInsensitive)
        }
        return result
    }

    private static func printable(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
    }

    private static func bounded(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
