import Foundation

/// Where the API key comes from: the environment, or a key file. Never a flag or a job file.
public enum APIKey {
    /// Reads the key the job's settings point at and checks its shape: one line (a trailing
    /// newline is trimmed), no whitespace or control character. A malformed key is refused
    /// naming its source, never its value. `warn` hears about a key file others may read, and
    /// about a key without a documented prefix.
    public static func resolve(
        _ settings: APISettings,
        environment: [String: String],
        warn: (String) -> Void = { _ in }
    ) throws(APIError) -> String {
        let source: String
        let raw: String
        if let file = settings.keyFile {
            if let mode = PrivateFiles.exposedMode(of: file) {
                warn(
                    "the API key file \(file) is readable by others (mode \(String(mode, radix: 8))): run chmod 600 on it"
                )
            }
            do {
                raw = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw .unreadableKeyFile(path: file, reason: (error as NSError).localizedDescription)
            }
            source = "the key file \(file)"
        } else {
            raw = environment[settings.keyEnvironmentVariable] ?? ""
            source = "the environment variable \(settings.keyEnvironmentVariable)"
        }
        let key = try validated(raw, source: source)
        guard !key.isEmpty else {
            throw .missingKey(source: settings.keyFile.map { "a key in \($0)" } ?? settings.keyEnvironmentVariable)
        }
        if !key.hasPrefix("qi_live_") && !key.hasPrefix("qi_test_") {
            warn("the API key in \(source) does not start with qi_live_ or qi_test_: check it is a Verilock key")
        }
        return key
    }

    /// The key in `raw` with one trailing newline (LF or CRLF) removed; throws when what is left
    /// holds anything but printable ASCII (a second line, a stray space, a NUL, an invisible or
    /// non-ASCII character: keys are ASCII tokens).
    static func validated(_ raw: String, source: String) throws(APIError) -> String {
        // On scalars: "\r\n" is a single Character.
        var key = Substring.UnicodeScalarView(raw.unicodeScalars)
        if key.last == "\n" {
            key.removeLast()
            if key.last == "\r" { key.removeLast() }
        }
        if let bad = key.first(where: { !(0x21...0x7E).contains($0.value) }) {
            let what =
                bad == "\n" || bad == "\r"
                ? "more than one line"
                : bad.properties.isWhitespace
                    ? "whitespace" : bad.value < 0x80 ? "a control character" : "a character that is not ASCII"
            throw .malformedKey(source: source, reason: what)
        }
        return String(String.UnicodeScalarView(key))
    }
}
