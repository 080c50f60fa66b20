import Foundation
import Testing

/// Which ledger an end-to-end test gives its job: an SQLite file, or a fresh database on the
/// PostgreSQL server of `VERILOCK_TEST_POSTGRES_URL` (password in `PGPASSWORD`), which
/// `.ci/run` starts (`scripts/postgres-cluster`).
enum LedgerKind: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static let serverURL = ProcessInfo.processInfo.environment["VERILOCK_TEST_POSTGRES_URL"]

    /// SQLite always; PostgreSQL when the tests have a server.
    static var available: [LedgerKind] { serverURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// Runs `sql` with `psql` on the server's `postgres` database; fails the test when psql fails.
    static func psql(_ sql: String) throws {
        let server = try #require(serverURL)
        let psql = Process()
        psql.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        psql.arguments = ["psql", server, "-qAtc", sql]
        psql.standardOutput = FileHandle.nullDevice
        try psql.run()
        psql.waitUntilExit()
        try #require(psql.terminationStatus == 0, "psql failed: \(sql)")
    }

    /// A new ledger: a file path relative to the job's folder, or the URL of a new database
    /// (made with `psql`).
    func freshLedger() throws -> String {
        switch self {
        case .sqlite:
            return "state/ledger.sqlite"
        case .postgres:
            let server = try #require(Self.serverURL)
            let name = "verilock_e2e_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            try Self.psql("CREATE DATABASE \(name)")
            let (base, query) = try #require(
                server.range(of: "?").map { (server[..<$0.lowerBound], server[$0.lowerBound...]) })
            return String(base[..<(try #require(base.lastIndex(of: "/")))]) + "/" + name + query
        }
    }
}
