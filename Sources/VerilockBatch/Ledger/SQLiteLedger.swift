import Foundation
import GRDB
import GRDBSQLite

/// The ledger in one SQLite file in WAL mode: the default, embedded backend of ``Ledger``.
///
/// Opened once per run. Every write is one transaction on GRDB's writer queue; the schema
/// (``LedgerSchema``) holds the invariants.
public final class SQLiteLedger: Ledger {
    /// The ledger file's path.
    public let path: String
    /// The ledger file's path, for messages.
    public var location: String { path }
    let queue: DatabaseQueue
    /// Whether every operation runs on the calling thread, for a deterministic executor that
    /// cannot wait for another thread; otherwise each runs on GRDB's queue while the caller is
    /// suspended.
    public let onCallerThread: Bool

    /// An empty ledger in memory, for checks that must not touch a file (`validate`, a dry run
    /// without a ledger yet).
    public init() throws(LedgerError) {
        path = "(in memory)"
        onCallerThread = false
        do {
            queue = try DatabaseQueue()
            try LedgerSchema.migrator.migrate(queue)
        } catch {
            throw .cannotOpen(path: path, reason: Self.describe(error))
        }
    }

    /// Opens (creating with mode 0600, in folders made 0700) and migrates the ledger at `path`.
    public init(path: String, onCallerThread: Bool = false) throws(LedgerError) {
        self.path = path
        self.onCallerThread = onCallerThread
        do {
            try PrivateFiles.prepareFile(at: path)
        } catch {
            throw .cannotOpen(path: path, reason: "\(error)")
        }
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // A new ledger gives free pages back on `PRAGMA incremental_vacuum` (after a prune);
            // an older one is converted by its first prune.
            try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            // NORMAL in WAL mode: a commit survives the process dying (kill -9, a crash), and
            // is not fsynced on every transaction. After a power loss the last commits may roll
            // back; that is safe here because every create's Idempotency-Key is derived from the
            // profile, external_id and generation: a lost intent or outcome is resent with the
            // same key and the API replays the session it made. An fsync per commit stalled the
            // parent task (and so every worker) several times a second.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        configuration.busyMode = .timeout(5)
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            let migrator = LedgerSchema.migrator
            let newest = try queue.read { db -> String? in
                guard try migrator.hasBeenSuperseded(db) else { return nil }
                let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
                return applied.last { !migrator.migrations.contains($0) } ?? applied.last
            }
            if let newest {
                throw LedgerError.tooNew(path: path, version: newest, known: migrator.migrations.last ?? "none")
            }
            try migrator.migrate(queue)
            try Self.requireJSON(queue, path: path)
        } catch let error as LedgerError {
            throw error
        } catch {
            throw .cannotOpen(path: path, reason: Self.describe(error))
        }
    }

    /// Opens the ledger at `path` as ``init(path:onCallerThread:)`` does, on a thread of its own
    /// (opening may migrate the schema of a large ledger): the calling task is suspended
    /// meanwhile, unless `onCallerThread`.
    public static func open(path: String, onCallerThread: Bool = false) async throws(LedgerError) -> SQLiteLedger {
        guard !onCallerThread else { return try SQLiteLedger(path: path, onCallerThread: true) }
        return try await onThreadOfItsOwn { () throws(LedgerError) in try SQLiteLedger(path: path) }
    }

    /// An empty ledger in memory, as ``init()`` makes it, made on a thread of its own.
    public static func inMemory() async throws(LedgerError) -> SQLiteLedger {
        try await onThreadOfItsOwn { () throws(LedgerError) in try SQLiteLedger() }
    }

    private static func onThreadOfItsOwn(
        _ body: @escaping @Sendable () throws(LedgerError) -> SQLiteLedger
    ) async throws(LedgerError) -> SQLiteLedger {
        let made = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<SQLiteLedger, LedgerError>, Never>) in
            Thread { continuation.resume(returning: Result(catching: body)) }.start()
        }
        return try made.get()
    }

    /// Refuses an SQLite without its JSON functions (built in since 3.38; Debian's has them):
    /// batch lookups go through `json_each`.
    private static func requireJSON(_ queue: DatabaseQueue, path: String) throws {
        do {
            try queue.read { db in try db.execute(sql: "SELECT key FROM json_each('[]')") }
        } catch {
            throw LedgerError.cannotOpen(
                path: path,
                reason: "this SQLite (\(String(cString: sqlite3_libversion()))) has no JSON functions (json_each); "
                    + "the ledger needs SQLite 3.38 or later, or a build with JSON1")
        }
    }

    /// Runs `body` in one write transaction on the calling thread, blocking it; a database
    /// error becomes a ``LedgerError``, any other error from `body` rolls the transaction back
    /// and is rethrown as it is. For tests, and for ledgers opened ``onCallerThread``.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.write(body)
        } catch let error as DatabaseError {
            throw LedgerError.database(path: path, reason: Self.describe(error))
        }
    }

    /// Runs `body` in one write transaction without blocking a thread of Swift's cooperative
    /// pool: on GRDB's writer queue, the caller suspended meanwhile (on the calling thread for a
    /// ledger opened ``onCallerThread``). Errors as in ``write(_:)``.
    func writeSuspending<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        guard !onCallerThread else { return try write(body) }
        do {
            return try await queue.write(body)
        } catch let error as DatabaseError {
            throw LedgerError.database(path: path, reason: Self.describe(error))
        }
    }

    /// Runs `body` with a read-only view, as ``writeSuspending(_:)`` runs a write.
    func readSuspending<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        guard !onCallerThread else { return try read(body) }
        do {
            return try await queue.read(body)
        } catch let error as DatabaseError {
            throw LedgerError.database(path: path, reason: Self.describe(error))
        }
    }

    /// Runs `body` on the ledger's connection outside any transaction (for statements that
    /// refuse one, or manage their own), as ``writeSuspending(_:)`` runs a write.
    func withoutTransaction<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            guard onCallerThread else { return try await queue.writeWithoutTransaction(body) }
            return try queue.inDatabase(body)
        } catch let error as DatabaseError {
            throw LedgerError.database(path: path, reason: Self.describe(error))
        }
    }

    /// Runs run `runID`'s planning (``LedgerPlanning``) in one transaction on the ledger's own
    /// thread (GRDB's writer queue, never Swift's cooperative pool; the calling thread for a
    /// ledger opened ``onCallerThread``): committed when `body` returns, rolled back when it
    /// throws.
    public func planRun<T: Sendable>(
        runID: Int64, _ body: @escaping @Sendable (any LedgerPlanning) throws -> T
    ) async throws -> T {
        let path = self.path
        return try await transaction(commit: true) { db in
            try body(SQLitePlanning(db: db, runID: runID, location: path))
        }
    }

    /// Plans as a run of `job` would, in a transaction that is rolled back at its end, whatever
    /// `body` did: a dry run plans every row exactly as a run would, then leaves the ledger as
    /// it was. `body` gets the throwaway run's id.
    public func planDryRun<T: Sendable>(
        job: String, now: Date, _ body: @escaping @Sendable (any LedgerPlanning, Int64) throws -> T
    ) async throws -> T {
        let path = self.path
        return try await transaction(commit: false) { db in
            let runID = try LedgerRuns(sql: SQLiteSQL(db: db, location: path)).start(
                job: job, inputs: [], simulated: false, now: now)
            return try body(SQLitePlanning(db: db, runID: runID, location: path), runID)
        }
    }

    private func transaction<T: Sendable>(commit: Bool, _ body: @escaping @Sendable (Database) throws -> T)
        async throws -> T
    {
        try await withoutTransaction { db in
            var result: T?
            try db.inTransaction {
                result = try body(db)
                return commit ? .commit : .rollback
            }
            guard let result else { throw DatabaseError(message: "the transaction produced nothing") }
            return result
        }
    }

    /// Runs `body` with a read-only view of one snapshot of the ledger, on the ledger's own
    /// thread (see ``readSuspending(_:)``).
    public func reading<T: Sendable>(_ body: @escaping @Sendable (any LedgerReading) throws -> T) async throws -> T {
        let path = self.path
        return try await readSuspending { db in try body(SQLiteReading(db: db, location: path)) }
    }

    /// Runs `body` with a read-only view on the calling thread, blocking it; errors as in
    /// ``write(_:)``.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.read(body)
        } catch let error as DatabaseError {
            throw LedgerError.database(path: path, reason: Self.describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return error.message ?? "\(error.resultCode)"
        }
        return "\(error)"
    }
}

extension SQLiteLedger {
    /// Records the start of a run and its inputs; returns the run's id.
    public func startRun(job: String, inputs: [(path: String, size: Int64?)], simulated: Bool, now: Date)
        async throws -> Int64
    {
        let path = self.path
        return try await writeSuspending { db in
            try LedgerRuns(sql: SQLiteSQL(db: db, location: path)).start(
                job: job, inputs: inputs, simulated: simulated, now: now)
        }
    }

    /// Records how a run ended.
    public func finishRun(_ runID: Int64, exitCode: Int32, counts: RunCounts, now: Date) async throws {
        let path = self.path
        try await writeSuspending { db in
            try LedgerRuns(sql: SQLiteSQL(db: db, location: path)).finish(
                runID, exitCode: exitCode, counts: counts, now: now)
        }
    }
}
