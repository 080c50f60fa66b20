import Foundation
import Logging

/// A job's ledger as one command holds it: opened, and locked when the command writes.
///
/// The job's `ledger` says which: a file path is an SQLite ledger, locked with a lock file
/// beside it (``LedgerLock``); a `postgresql://` URL is a PostgreSQL ledger, locked with
/// advisory locks per job and shard (``PostgresLedger/lock(job:shard:now:)``), its password
/// from ``PostgresPassword``. ``close()`` releases the lock and the connection.
public struct LedgerAccess: Sendable {
    /// What a command does with the ledger.
    public enum Use: Sendable, Equatable {
        /// A run (or a dry run, or `sync`, or `prune`): the job's lock (its shard's, for a
        /// sharded run on PostgreSQL) is held until ``close()``.
        case write
        /// Reading only (`status`, `export`, `ledger check`): no lock; the ledger must exist.
        case read
    }

    public let ledger: any Ledger
    /// The ledger file, for an SQLite ledger; nil for a database.
    public let file: String?
    private let release: @Sendable () async -> Void

    /// Opens the ledger of `job` for `use`. Throws ``LedgerError/locked(path:holder:)`` when
    /// another run holds it, ``LedgerError/cannotOpen(path:reason:)`` when it cannot be reached
    /// (or, for reading, does not exist yet).
    public static func open(
        job: JobConfiguration,
        use: Use,
        now: Date,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        onCallerThread: Bool = false,
        logger: Logger
    ) async throws -> LedgerAccess {
        let location = job.expand(job.ledgerPath, runID: nil, now: now)
        if PostgresLedgerURL.isPostgres(location) {
            let url = try PostgresLedgerURL(parsing: location)
            let password = try PostgresPassword.resolve(
                for: url, passwordFile: job.ledgerPasswordFile, environment: environment)
            let ledger = try await PostgresLedger.open(url: url, password: password)
            if use == .write {
                do {
                    try await ledger.lock(job: job.name, shard: job.shard, now: now)
                } catch {
                    await ledger.close()
                    throw error
                }
            }
            return LedgerAccess(ledger: ledger, file: nil) { await ledger.close() }
        }
        if use == .read && !FileManager.default.fileExists(atPath: location) {
            throw LedgerError.cannotOpen(path: location, reason: "no such file: no run has used this ledger yet")
        }
        let lock = use == .write ? try LedgerLock(ledgerPath: location, now: now) : nil
        let ledger: SQLiteLedger
        do {
            ledger = try await SQLiteLedger.open(path: location, onCallerThread: onCallerThread)
        } catch {
            lock?.unlock()
            throw error
        }
        if let mode = PrivateFiles.exposedMode(of: location) {
            let octal = String(mode, radix: 8)
            logger.warning(
                "the ledger is readable by others (mode \(octal)): it holds personal data and session tokens; chmod 600 it",
                metadata: ["ledger": "\(location)"])
        }
        return LedgerAccess(ledger: ledger, file: location) { lock?.unlock() }
    }

    private init(ledger: any Ledger, file: String?, release: @escaping @Sendable () async -> Void) {
        self.ledger = ledger
        self.file = file
        self.release = release
    }

    /// Whether a ledger exists at the job's `ledger` (a database always may).
    public static func exists(for job: JobConfiguration, now: Date) -> Bool {
        guard let file = file(of: job, now: now) else { return true }
        return FileManager.default.fileExists(atPath: file)
    }

    /// The job's ledger file; nil for a database ledger.
    public static func file(of job: JobConfiguration, now: Date) -> String? {
        let location = job.expand(job.ledgerPath, runID: nil, now: now)
        return PostgresLedgerURL.isPostgres(location) ? nil : location
    }

    /// Releases the lock and, for a database, closes the connection.
    public func close() async {
        await release()
    }

    /// Runs `body` with the ledger, then closes it, whether `body` returns or throws.
    public func use<T>(_ body: (any Ledger) async throws -> T) async throws -> T {
        do {
            let result = try await body(ledger)
            await close()
            return result
        } catch {
            await close()
            throw error
        }
    }
}
