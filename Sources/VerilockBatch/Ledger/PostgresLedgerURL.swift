import Foundation

/// Where a PostgreSQL ledger is: `postgresql://user@host:port/database?sslmode=...` (or
/// `postgres://`). It never holds a password: that comes from `PGPASSWORD`, a password file,
/// or the job's `ledger_password_file` (``PostgresPassword``), so the URL can be logged as it is.
public struct PostgresLedgerURL: Sendable, Equatable, CustomStringConvertible {
    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    /// TLS as the URL says; verified (`verify-full`) unless it says otherwise.
    public var sslMode: PostgresSSLMode

    /// Whether `text` names a PostgreSQL ledger rather than a file.
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    /// Parses a ledger URL; throws naming what is wrong (never echoing a password).
    public init(parsing text: String) throws(LedgerError) {
        func refuse(_ reason: String) -> LedgerError {
            .cannotOpen(path: Self.redacted(text), reason: reason)
        }
        guard Self.isPostgres(text), let components = URLComponents(string: text) else {
            throw refuse("not a URL of the form postgresql://user@host:port/database?sslmode=verify-full")
        }
        if components.password != nil {
            throw refuse(
                "the URL holds a password: put it in PGPASSWORD, a password file (PGPASSFILE) or the job's "
                    + "ledger_password_file, never in the job file or on the command line")
        }
        guard let user = components.user.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw refuse("the URL names no user (postgresql://USER@host/database)")
        }
        guard var host = components.host, !host.isEmpty else {
            throw refuse("the URL names no host (postgresql://user@HOST/database)")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let database = String(components.path.drop(while: { $0 == "/" })).removingPercentEncoding ?? ""
        guard !database.isEmpty, !database.contains("/") else {
            throw refuse("the URL names no database (postgresql://user@host/DATABASE)")
        }
        var sslMode = PostgresSSLMode.verifyFull
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode" else {
                throw refuse("unknown parameter '\(item.name)' (only sslmode is read)")
            }
            guard let mode = item.value.flatMap(PostgresSSLMode.init(rawValue:)) else {
                let known = PostgresSSLMode.allCases.map(\.rawValue).joined(separator: ", ")
                throw refuse("sslmode '\(item.value ?? "")' is not one of \(known)")
            }
            sslMode = mode
        }
        if let port = components.port, !(1...65_535).contains(port) {
            throw refuse("port \(port) is out of range")
        }
        self.user = user
        self.host = host
        self.port = components.port ?? 5432
        self.database = database
        self.sslMode = sslMode
    }

    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "postgresql://\(user)@\(shownHost):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
    }

    /// `text` with anything between `//` and `@` after a colon masked, for messages about a URL
    /// that did not parse.
    static func redacted(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@"),
            let colon = text[scheme.upperBound..<at].firstIndex(of: ":")
        else { return text }
        return text[..<text.index(after: colon)] + "***" + text[at...]
    }
}
