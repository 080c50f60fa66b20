import Foundation

/// Where a PostgreSQL ledger's password comes from, first found wins: the job's
/// `ledger_password_file`, the `PGPASSWORD` environment variable, then the password file
/// libpq reads (`PGPASSFILE`, or `~/.pgpass`), whose lines are
/// `host:port:database:user:password` with `*` for any value and `\` escaping `:` and `\`.
/// None at all is fine: the server may trust the connection. Never from the job file itself
/// or a flag.
public enum PostgresPassword {
    /// The password for `url`, or nil when no source has one. A password file others may read
    /// is refused, as libpq ignores it, naming the file and the fix.
    public static func resolve(
        for url: PostgresLedgerURL,
        passwordFile: String?,
        environment: [String: String]
    ) throws(LedgerError) -> String? {
        if let passwordFile {
            let text = try read(passwordFile, for: url)
            return String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
                .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
        }
        if let password = environment["PGPASSWORD"], !password.isEmpty { return password }
        let passfile =
            environment["PGPASSFILE"] ?? environment["HOME"].map { $0 + "/.pgpass" }
        guard let passfile, FileManager.default.fileExists(atPath: passfile) else { return nil }
        return match(try read(passfile, for: url), url: url)
    }

    private static func read(_ path: String, for url: PostgresLedgerURL) throws(LedgerError) -> String {
        if let mode = PrivateFiles.exposedMode(of: path) {
            throw .cannotOpen(
                path: url.description,
                reason: "the password file \(path) is readable by others (mode \(String(mode, radix: 8))): "
                    + "run chmod 600 on it")
        }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .cannotOpen(
                path: url.description,
                reason: "cannot read the password file \(path): \((error as NSError).localizedDescription)")
        }
    }

    /// The password of the first line of a libpq password file that matches `url`.
    static func match(_ text: String, url: PostgresLedgerURL) -> String? {
        let wanted = [url.host, String(url.port), url.database, url.user]
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) where !line.hasPrefix("#") {
            let fields = split(line)
            guard fields.count == 5 else { continue }
            let matches = zip(fields.prefix(4), wanted).allSatisfy { field, value in field == "*" || field == value }
            if matches { return fields[4] }
        }
        return nil
    }

    /// The colon-separated fields of a password-file line, with `\:` and `\\` unescaped.
    private static func split(_ line: Substring) -> [String] {
        var fields: [String] = []
        var field = ""
        var escaped = false
        for character in line {
            if escaped {
                field.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == ":" && fields.count < 4 {
                fields.append(field)
                field = ""
            } else {
                field.append(character)
            }
        }
        fields.append(field)
        return fields
    }
}
