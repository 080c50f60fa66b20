import Foundation
import Testing

@testable import VerilockBatch

/// The PostgreSQL ledger against a real server (``PostgresTestServer``).
@Suite("PostgreSQL ledger", .enabled(if: PostgresTestServer.isConfigured))
struct PostgresLedgerTests {
    @Test("opening makes the schema once; a second host opening at the same time finds it made")
    func migrates() async throws {
        let url = try await PostgresTestServer.freshDatabase()
        async let first = PostgresTestServer.open(url)
        async let second = PostgresTestServer.open(url)
        let (a, b) = try await (first, second)
        await a.close()
        await b.close()
        let again = try await PostgresTestServer.open(url)
        await again.close()
    }

    @Test("a wrong password is refused with the server's words, naming the URL and never the password")
    func wrongPassword() async throws {
        let url = try await PostgresTestServer.freshDatabase()
        do {
            _ = try await PostgresLedger.open(url: url, password: "not-the-password-42")
            Issue.record("a wrong password was accepted")
        } catch let error as LedgerError {
            #expect(error.description.contains(url.description))
            #expect(error.description.contains("password authentication failed"), "\(error)")
            #expect(!error.description.contains("not-the-password-42"))
        }
    }

    @Test(
        "a second run of one job and shard is refused naming the holder; shards run side by side; a closed connection frees its lock"
    )
    func locks() async throws {
        let url = try await PostgresTestServer.freshDatabase()
        let now = Date(timeIntervalSince1970: 1_767_225_600)
        let holder = try await PostgresTestServer.open(url)
        try await holder.lock(job: "nightly", shard: nil, now: now)
        let second = try await PostgresTestServer.open(url)
        await #expect(throws: LedgerError.self) { try await second.lock(job: "nightly", shard: nil, now: now) }
        do {
            try await second.lock(job: "nightly", shard: Shard(parsing: "1/2"), now: now)
            Issue.record("a shard ran beside a run of the whole job")
        } catch let error as LedgerError {
            guard case .locked(_, let named) = error else { throw error }
            #expect(named == "pid \(getpid()) on \(ProcessInfo.processInfo.hostName), started 2026-01-01T00:00:00Z")
        }
        try await second.lock(job: "other job", shard: nil, now: now)
        await holder.close()
        try await second.lock(job: "nightly", shard: Shard(parsing: "1/2"), now: now)
        let third = try await PostgresTestServer.open(url)
        try await third.lock(job: "nightly", shard: Shard(parsing: "2/2"), now: now)
        let fourth = try await PostgresTestServer.open(url)
        await #expect(throws: LedgerError.self) {
            try await fourth.lock(job: "nightly", shard: Shard(parsing: "2/2"), now: now)
        }
        await #expect(throws: LedgerError.self) { try await fourth.lock(job: "nightly", shard: nil, now: now) }
        for ledger in [second, third, fourth] { await ledger.close() }
    }

    @Test(
        "TLS is verified by default: a self-signed server certificate is refused; sslmode=require encrypts without checking"
    )
    func tlsVerified() async throws {
        var url = try await PostgresTestServer.freshDatabase()
        url.sslMode = .verifyFull
        do {
            _ = try await PostgresTestServer.open(url)
            Issue.record("verify-full accepted a self-signed certificate")
        } catch let error as LedgerError {
            guard case .cannotOpen(let path, _) = error else { throw error }
            #expect(path == url.description)
        }
        url.sslMode = .require
        let ledger = try await PostgresTestServer.open(url)
        let encrypted = try await ledger.onQueue { session in
            try session.row("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")?.bool(0)
        }
        #expect(encrypted == true)
        await ledger.close()
    }

    @Test("a ledger whose schema is newer than the tool is refused naming both versions")
    func tooNew() async throws {
        let url = try await PostgresTestServer.freshDatabase()
        let ledger = try await PostgresTestServer.open(url)
        _ = try await ledger.onQueue { session in
            try session.rows("INSERT INTO ledger_schema (identifier) VALUES ('pg9: from the future')")
        }
        await ledger.close()
        await #expect(
            throws: LedgerError.tooNew(path: url.description, version: "pg9: from the future", known: "pg1: ledger")
        ) {
            _ = try await PostgresTestServer.open(url)
        }
    }
}
