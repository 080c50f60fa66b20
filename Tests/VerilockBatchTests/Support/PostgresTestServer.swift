import Foundation
import Logging
import PostgresNIO
import Testing

@testable import VerilockBatch

/// The PostgreSQL server the PostgreSQL ledger's tests use: `VERILOCK_TEST_POSTGRES_URL` (with
/// its password in `PGPASSWORD`), which `.ci/run` sets to a throwaway cluster
/// (`scripts/postgres-cluster`). Unset, those tests do not run; set, a server that cannot be
/// reached fails them.
enum PostgresTestServer {
    static let environment = ProcessInfo.processInfo.environment

    /// Whether the tests that need the server run.
    static var isConfigured: Bool { environment["VERILOCK_TEST_POSTGRES_URL"] != nil }

    /// The server's URL, as the environment gives it.
    static func url() throws -> PostgresLedgerURL {
        try PostgresLedgerURL(parsing: try #require(environment["VERILOCK_TEST_POSTGRES_URL"]))
    }

    /// The password for the server, as the tool would find it.
    static func password() throws -> String? {
        try PostgresPassword.resolve(for: try url(), passwordFile: nil, environment: environment)
    }

    /// A new, empty database on the server; returns its URL.
    static func freshDatabase() async throws -> PostgresLedgerURL {
        var url = try url()
        let name = "verilock_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let connection = try await PostgresConnection.connect(
            configuration: .init(
                host: url.host, port: url.port, username: url.user, password: try password(), database: url.database,
                tls: .disable),
            id: 1, logger: Logger(label: "test"))
        defer { Task { try? await connection.close() } }
        try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Logger(label: "test"))
        url.database = name
        return url
    }

    /// Opens the ledger at `url`.
    static func open(_ url: PostgresLedgerURL) async throws -> PostgresLedger {
        try await PostgresLedger.open(url: url, password: try password())
    }
}
