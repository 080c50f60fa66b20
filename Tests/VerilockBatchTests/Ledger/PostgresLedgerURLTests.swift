import Foundation
import Testing

@testable import VerilockBatch

@Suite("PostgreSQL ledger URL and password")
struct PostgresLedgerURLTests {
    let folder = TemporaryDirectory()

    @Test("a URL names user, host, port, database and sslmode; TLS is verified unless it says otherwise")
    func parses() throws {
        let url = try PostgresLedgerURL(parsing: "postgresql://batch@db.internal:6432/verilock?sslmode=require")
        #expect(url.user == "batch" && url.host == "db.internal" && url.port == 6432 && url.database == "verilock")
        #expect(url.sslMode == .require)
        let plain = try PostgresLedgerURL(parsing: "postgres://batch@db.internal/verilock")
        #expect(plain.port == 5432 && plain.sslMode == .verifyFull)
        #expect(plain.description == "postgresql://batch@db.internal:5432/verilock?sslmode=verify-full")
        let six = try PostgresLedgerURL(parsing: "postgresql://batch@[::1]:5433/ledger?sslmode=disable")
        #expect(six.host == "::1" && six.description == "postgresql://batch@[::1]:5433/ledger?sslmode=disable")
    }

    @Test(
        "a URL with a password, or without user, host or database, or with an unknown parameter is refused; the password is never echoed",
        arguments: [
            ("postgresql://batch:s3cret@db/verilock", "holds a password"),
            ("postgresql://db/verilock", "names no user"),
            ("postgresql://batch@db/", "names no database"),
            ("postgresql://batch@db/verilock?sslmode=maybe", "sslmode 'maybe' is not one of"),
            ("postgresql://batch@db/verilock?password=x", "unknown parameter 'password'"),
        ])
    func refuses(text: String, reason: String) {
        do {
            _ = try PostgresLedgerURL(parsing: text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.description.contains(reason), "\(error.description)")
            #expect(!error.description.contains("s3cret"))
        }
    }

    @Test("the password comes from ledger_password_file, then PGPASSWORD, then the matching line of PGPASSFILE")
    func password() throws {
        let url = try PostgresLedgerURL(parsing: "postgresql://batch@db.internal:5432/verilock")
        let passfile = folder.write(
            "pgpass",
            """
            # comment
            other:5432:verilock:batch:wrong
            db.internal:5432:*:batch:pa\\:ss\\\\word
            *:*:*:*:fallback

            """)
        chmod(passfile, 0o600)
        #expect(
            try PostgresPassword.resolve(for: url, passwordFile: nil, environment: ["PGPASSFILE": passfile])
                == "pa:ss\\word")
        #expect(
            try PostgresPassword.resolve(
                for: url, passwordFile: nil, environment: ["PGPASSFILE": passfile, "PGPASSWORD": "env"]) == "env")
        let file = folder.write("ledger-password", "from-file\n")
        chmod(file, 0o600)
        #expect(
            try PostgresPassword.resolve(for: url, passwordFile: file, environment: ["PGPASSWORD": "env"])
                == "from-file")
        #expect(try PostgresPassword.resolve(for: url, passwordFile: nil, environment: [:]) == nil)
    }

    @Test("a password file others may read is refused, naming it and the fix")
    func exposedPasswordFile() throws {
        let url = try PostgresLedgerURL(parsing: "postgresql://batch@db/verilock")
        let file = folder.write("ledger-password", "secret\n")
        chmod(file, 0o644)
        #expect(throws: LedgerError.self) {
            try PostgresPassword.resolve(for: url, passwordFile: file, environment: [:])
        }
        do {
            _ = try PostgresPassword.resolve(for: url, passwordFile: file, environment: [:])
        } catch {
            #expect(
                error.description.contains("\(file) is readable by others") && !error.description.contains("secret"))
        }
    }
}
