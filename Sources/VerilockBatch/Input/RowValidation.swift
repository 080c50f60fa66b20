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
        if value.count > maxExternalIDLength {
            return "external_id is \(value.count) characters long; at most \(maxExternalIDLength) are allowed"
        }
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "external_id \(quoted(value)) contains a control character"
        }
        return nil
    }

    /// Checks an e-mail address; nil when it looks like one.
    public static func emailProblem(_ value: String) -> String? {
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        let looksRight =
            parts.count == 2 && !parts[0].isEmpty && value.utf8.count <= 254
            && parts[1].contains(".") && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".")
            && !value.unicodeScalars.contains {
                $0.properties.isWhitespace || $0.properties.generalCategory == .control
            }
        return looksRight ? nil : "applicant_email \(quoted(value)) is not an e-mail address"
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
