import Foundation
import GRDB
import Logging
import Synchronization

@testable import VerilockBatch

/// One seed of the deterministic simulation: the real ``BatchRunner``, ledger and sender run
/// against a ``ModelAPI`` on a ``SimulationClock``, every job on one ``SimulationExecutor``.
///
/// The seed decides everything: the kind of server (keys honoured or ignored, lookup present,
/// missing or unfiltered), its fault rates, the job's settings, how many runs, where each run
/// crashes (its runner abandoned after a number of executor jobs: its API client cut off, its
/// ledger left as it was on disk and reopened by the next run), how much time passes between
/// runs and how the input file changes. A last run against a healthy server settles what is
/// left; then the invariants are checked.
struct SimulationWorld {
    /// What a seed came to.
    struct Result: Sendable {
        var seed: UInt64
        var violations: [String] = []
        var schedule: [String] = []
        var faults: Set<ModelAPI.Fault> = []
    }

    private struct InputRow {
        var id: String
        var email: String
        var name: String
    }

    let seed: UInt64
    let folder: String

    /// Runs the seed to its end, on the calling thread (not a thread of the cooperative pool).
    func run() -> Result {
        var result = Result(seed: seed)
        var random = SplitMix64(seed: seed)
        let clock = SimulationClock()
        let executor = SimulationExecutor(clock: clock)
        let timeout = Duration.seconds(2)
        let model = ModelAPI(seed: seed, clock: clock, executor: executor, timeout: timeout)

        // The server.
        var faulty = ModelAPI.Behaviour()
        faulty.honoursKeys = random.chance(0.5)
        faulty.hasLookup = faulty.honoursKeys ? random.chance(0.6) : true
        faulty.lookupIgnoresFilter = faulty.honoursKeys && faulty.hasLookup && random.chance(0.15)
        faulty.listWithoutURL = random.chance(0.3)
        faulty.fail5xxBeforeCommit = Double.random(in: 0...0.08, using: &random)
        faulty.fail5xxAfterCommit = Double.random(in: 0...0.05, using: &random)
        faulty.resetBeforeCommit = Double.random(in: 0...0.05, using: &random)
        faulty.resetAfterCommit = Double.random(in: 0...0.1, using: &random)
        faulty.dropWhileInFlight = Double.random(in: 0...0.05, using: &random)
        faulty.answerAfterTimeout = Double.random(in: 0...0.05, using: &random)
        faulty.unreadableSuccess = Double.random(in: 0...0.03, using: &random)
        faulty.rateLimitBurst = random.chance(0.3) ? Double.random(in: 0...0.03, using: &random) : 0
        faulty.lookupFailure = Double.random(in: 0...0.1, using: &random)
        if !faulty.honoursKeys { model.note(.keyIgnored, "server ignores Idempotency-Key") }

        // The job.
        var job = JobConfiguration()
        job.name = "sim"
        job.template = SessionTemplate(
            profileID: "7f3c2a10-5d4e-4b8a-9c61-2e0f8d9b3a47",
            expiresIn: random.chance(0.3) ? Int.random(in: 300...900, using: &random) : nil)
        job.api.timeout = timeout
        job.api.serverTimeout = .seconds(4)
        job.api.rateLimit = RateLimit(requestsPerSecond: 50)
        job.api.concurrency = Int.random(in: 1...6, using: &random)
        job.api.maxAttempts = Int.random(in: 2...5, using: &random)
        if faulty.honoursKeys && random.chance(0.2) {
            job.api.unknownOutcome = .idempotencyKey
        } else if faulty.hasLookup && !faulty.lookupIgnoresFilter && random.chance(0.2) {
            job.api.unknownOutcome = .lookup
        } else {
            job.api.unknownOutcome = .auto
        }
        job.policy.reissueExpired = random.chance(0.7)
        job.policy.reissueMargin = random.chance(0.5) ? .zero : .seconds(120)
        job.policy.retryFailed = [RetryFailed.changed, .always, .never][Int.random(in: 0...2, using: &random)]
        job.outputColumns = OutputColumn.defaults + [.field(.file), .field(.line)]
        let inputPath = folder + "/input.csv"
        job.inputs = [inputPath]

        var rows = (1...Int.random(in: 3...30, using: &random)).map {
            InputRow(id: "u-\($0)", email: "person\($0)@example.com", name: "Person \($0)")
        }
        var nextRowNumber = rows.count + 1
        let faultyRuns = Int.random(in: 1...4, using: &random)
        result.schedule.append("seed \(seed): server \(faulty)")
        result.schedule.append(
            "job: \(rows.count) rows, concurrency \(job.api.concurrency), max_attempts \(job.api.maxAttempts), "
                + "unknown_outcome \(job.api.unknownOutcome.rawValue), expires_in \(job.template.expiresIn ?? 3600), "
                + "reissue_expired \(job.policy.reissueExpired), margin \(job.policy.reissueMargin), "
                + "retry_failed \(job.policy.retryFailed.rawValue), \(faultyRuns) faulty runs and a healthy one")

        var ledgerPath: String?
        // Sessions some finished run wrote out, and applicants a finished run rejected as expired.
        var delivered = Set<String>()
        var rejectedExpired = Set<String>()
        for runIndex in 0...faultyRuns {
            let healthy = runIndex == faultyRuns
            let boot = folder + "/boot-\(runIndex)"
            let path = boot + "/ledger.sqlite"
            try? FileManager.default.createDirectory(atPath: boot, withIntermediateDirectories: true)
            if let previous = ledgerPath {
                for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: previous + suffix) {
                    try? FileManager.default.copyItem(atPath: previous + suffix, toPath: path + suffix)
                }
            }
            ledgerPath = path
            job.ledgerPath = path
            job.outputPath = boot + "/output.csv"
            job.rejectsPath = boot + "/rejects.csv"
            Self.write(rows, to: inputPath)
            model.behave(healthy ? .healthy : faulty)
            // The healthy run starts once the server has finished what it was still at (a request
            // can run up to the job's server_timeout): it must then settle everything.
            if healthy { clock.advance(by: job.api.serverTimeout) }
            let crashAt = !healthy && random.chance(0.4) ? Int.random(in: 1...(rows.count * 40), using: &random) : .max
            result.schedule.append(
                String(format: "t=%.3f ", clock.seconds) + "run \(runIndex + 1): \(rows.count) rows, "
                    + (healthy ? "healthy server" : "faulty server")
                    + (crashAt == .max ? "" : ", crash after \(crashAt) executor jobs"))

            let outcome = RunOutcome()
            let runner = BatchRunner(
                job: job, api: model.client(), clock: clock, flushClock: clock,
                now: { model.date(clock.now.offset) }, jitter: { 0.5 }, ledgerOnCallerThread: true,
                logger: Self.logger(clock))
            let task = Task(executorPreference: executor) {
                let report: Swift.Result<RunReport, any Error>
                do {
                    report = .success(try await runner.run())
                } catch {
                    report = .failure(error)
                }
                outcome.value.withLock { $0 = report }
            }
            let finished = { outcome.value.withLock { $0 != nil } }
            switch executor.run(until: finished, stopAfterJobs: crashAt) {
            case .done:
                break
            case .stuck:
                result.violations.append("run \(runIndex + 1): stuck, no job to run and nobody sleeping")
                return result.with(model)
            case .jobBudget:
                model.note(.crash, "run \(runIndex + 1) after \(crashAt) jobs")
                // The machine dies: what is on disk now is what the next run finds.
                let crashedPath = boot + "/crashed.sqlite"
                for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: path + suffix) {
                    try? FileManager.default.copyItem(atPath: path + suffix, toPath: crashedPath + suffix)
                }
                ledgerPath = crashedPath
                model.sever()
                task.cancel()
                if executor.run(until: finished) != .done {
                    result.violations.append("run \(runIndex + 1): the abandoned runner never ended")
                    return result.with(model)
                }
                result.schedule.append(String(format: "t=%.3f ", clock.seconds) + "run \(runIndex + 1) crashed")
                advanceAndChange()
                continue
            }
            switch outcome.value.withLock({ $0 }) {
            case .success(let report)?:
                result.schedule.append(
                    String(format: "t=%.3f ", clock.seconds)
                        + "run \(runIndex + 1) exit \(report.exitCode): created \(report.counts.created), "
                        + "reissued \(report.counts.reissued), existing \(report.counts.existing), "
                        + "rejected \(report.counts.rejected) (pending \(report.counts.pending)), "
                        + "carried over \(report.counts.carriedOver), requests \(report.counts.requests)")
                result.violations += Self.checkFiles(
                    report, rows: rows, inputPath: inputPath, ledgerPath: path, run: runIndex + 1)
                if let output = try? Self.readCSV(report.outputPath),
                    let rejects = try? Self.readCSV(report.rejectsPath)
                {
                    delivered.formUnion(output.compactMap { $0["session_id"] })
                    rejectedExpired.formUnion(
                        rejects.filter { $0["reason"] == "expired" }.compactMap { $0["external_id"] })
                }
                if healthy && ![0, 1].contains(report.exitCode) {
                    result.violations.append("the healthy run exited \(report.exitCode)")
                }
            case .failure(let error)?:
                result.violations.append("run \(runIndex + 1) threw: \(error)")
                return result.with(model)
            case nil:
                result.violations.append("run \(runIndex + 1) ended without a result")
                return result.with(model)
            }
            if !healthy { advanceAndChange() }
        }
        if let ledgerPath {
            result.violations += Self.checkLedger(
                at: ledgerPath, against: model, delivered: delivered, rejectedExpired: rejectedExpired)
        }
        return result.with(model)

        /// Time passes, and the next night's file differs from tonight's.
        func advanceAndChange() {
            let pause =
                random.chance(0.3)
                ? Int64.random(in: 600...7200, using: &random) : Int64.random(in: 0...60, using: &random)
            clock.advance(by: .seconds(pause))
            if pause >= 600 { model.note(.timePassed, "\(pause) s") }
            if random.chance(0.3) {
                model.note(.dataChanged, "every e-mail changed")
                for index in rows.indices { rows[index].email = "new.\(rows[index].email)" }
            }
            if random.chance(0.2), rows.count > 1 {
                let keep = Int.random(in: 1..<rows.count, using: &random)
                model.note(.rowsDropped, "\(rows.count - keep) rows left out")
                rows = Array(rows.shuffled(using: &random).prefix(keep))
            }
            if random.chance(0.2) {
                for _ in 0..<Int.random(in: 1...5, using: &random) {
                    rows.append(
                        InputRow(
                            id: "u-\(nextRowNumber)", email: "person\(nextRowNumber)@example.com",
                            name: "New \(nextRowNumber)"))
                    nextRowNumber += 1
                }
            }
            result.schedule.append(
                String(format: "t=%.3f ", clock.seconds) + "after \(pause) s: \(rows.count) rows in the next file")
        }
    }

    /// No logs, unless `SIM_LOG` is set (for replaying one seed): then every debug line, with
    /// the simulated time.
    private static func logger(_ clock: SimulationClock) -> Logger {
        guard ProcessInfo.processInfo.environment["SIM_LOG"] != nil else {
            return Logger(label: "sim", factory: { _ in SwiftLogNoOpLogHandler() })
        }
        var logger = Logger(label: "sim", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .debug
        logger[metadataKey: "sim"] = .stringConvertible(SimulatedTime(clock: clock))
        return logger
    }

    private static func write(_ rows: [InputRow], to path: String) {
        var text = "external_id,applicant_email,applicant_name\n"
        for row in rows { text += "\(row.id),\(row.email),\(row.name)\n" }
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    }

    /// Every input row is in the output or the rejects exactly once (by line and external_id);
    /// the only other rows are the ones carried over from earlier runs.
    private static func checkFiles(
        _ report: RunReport, rows: [InputRow], inputPath: String, ledgerPath: String, run: Int
    ) -> [String] {
        var violations: [String] = []
        let output: [[String: String]]
        let rejects: [[String: String]]
        do {
            output = try readCSV(report.outputPath)
            rejects = try readCSV(report.rejectsPath)
        } catch {
            return ["run \(run): cannot read its files: \(error)"]
        }
        var seen: [String: Int] = [:]
        for entry in output + rejects {
            seen["\(entry["line"] ?? "?") \(entry["external_id"] ?? "?")", default: 0] += 1
        }
        let ids = Set(rows.map(\.id))
        for (index, row) in rows.enumerated() {
            let key = "\(index + 2) \(row.id)"
            let count = seen.removeValue(forKey: key) ?? 0
            if count != 1 {
                violations.append("run \(run): input line \(index + 2) (\(row.id)) is written \(count) times")
            }
        }
        let extra = seen.values.reduce(0, +)
        if extra != report.counts.carriedOver {
            violations.append(
                "run \(run): \(extra) rows beyond the input, but \(report.counts.carriedOver) carried over")
        }
        for entry in output + rejects where !ids.contains(entry["external_id"] ?? "") {
            if entry["file"] != inputPath {
                violations.append(
                    "run \(run): carried-over row \(entry["external_id"] ?? "?") names file \(entry["file"] ?? "?")")
            }
        }
        // Every applicant the run touched (sent, settled, carried over) is in one of its files.
        let written = Set((output + rejects).compactMap { $0["external_id"] })
        do {
            let touched = try SQLiteLedger(path: ledgerPath).read { db in
                try String.fetchAll(
                    db, sql: "SELECT external_id FROM applicant WHERE run_id = (SELECT max(id) FROM run)")
            }
            for id in touched where !written.contains(id) {
                violations.append("run \(run): \(id) was settled in this run but is in neither file")
            }
        } catch {
            violations.append("run \(run): cannot read the ledger: \(error)")
        }
        for entry in output where (entry["session_url"] ?? "").isEmpty {
            violations.append("run \(run): output row \(entry["external_id"] ?? "?") has no session_url")
        }
        return violations
    }

    /// The records of a CSV file the run wrote, by column name; a missing or unreadable file throws.
    private static func readCSV(_ path: String) throws -> [[String: String]] {
        var reader = try CSVReader(source: try ByteChunkReader(path: path))
        var rows: [[String: String]] = []
        while let record = try reader.next() {
            guard case .cells(let cells) = record.content else {
                throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path])
            }
            rows.append(Dictionary(uniqueKeysWithValues: zip(reader.header, cells)))
        }
        return rows
    }

    /// No external_id holds two sessions made with one Idempotency-Key; every session the server
    /// made is in the ledger; every created applicant's session is on the server and in some
    /// finished run's output (or the row was rejected as expired); nothing is left pending after
    /// the healthy run; the funnel counts the triggers keep equal a recount.
    private static func checkLedger(
        at path: String, against model: ModelAPI, delivered: Set<String>, rejectedExpired: Set<String>
    ) -> [String] {
        var violations: [String] = []
        let sessions = model.sessions
        for (key, made) in Dictionary(grouping: sessions, by: \.key) where made.count > 1 {
            violations.append(
                "duplicate: \(made[0].externalID) got \(made.count) sessions with key \(key): \(made.map(\.id))")
        }
        do {
            let ledger = try SQLiteLedger(path: path)
            let (known, created, pending) = try ledger.read { db in
                (
                    try Row.fetchAll(
                        db,
                        sql: """
                            SELECT id, external_id FROM session
                            UNION ALL SELECT session_id, external_id FROM applicant WHERE session_id IS NOT NULL
                            """
                    ).map {
                        ($0[0] as String, $0[1] as String)
                    },
                    try Row.fetchAll(db, sql: "SELECT external_id, session_id FROM applicant WHERE state = 'created'")
                        .map { ($0[0] as String, $0[1] as String) },
                    try String.fetchAll(db, sql: "SELECT external_id FROM applicant WHERE state = 'pending'")
                )
            }
            let knownIDs = Dictionary(known, uniquingKeysWith: { first, _ in first })
            for session in sessions where knownIDs[session.id] != session.externalID {
                violations.append("the server's session \(session.id) of \(session.externalID) is not in the ledger")
            }
            let serverIDs = Dictionary(sessions.map { ($0.id, $0.externalID) }, uniquingKeysWith: { first, _ in first })
            for (externalID, sessionID) in created where serverIDs[sessionID] != externalID {
                violations.append("the ledger's session \(sessionID) of \(externalID) is not on the server")
            }
            for (externalID, sessionID) in created
            where !delivered.contains(sessionID) && !rejectedExpired.contains(externalID) {
                violations.append("\(externalID)'s session \(sessionID) is in no finished run's output")
            }
            if !pending.isEmpty { violations.append("still pending after the healthy run: \(pending)") }
            let drift = try ledger.read { db in try LedgerSync(sql: SQLiteSQL(db: db, location: path)).funnelDrift() }
            if drift > 0 { violations.append("\(drift) funnel counts differ from a recount of the applicants") }
        } catch {
            violations.append("cannot read the ledger: \(error)")
        }
        return violations
    }
}

/// The simulated time, as log metadata.
private struct SimulatedTime: CustomStringConvertible, Sendable {
    let clock: SimulationClock
    var description: String { String(format: "t=%.3f", clock.seconds) }
}

/// Where a simulated run's task leaves its result.
private final class RunOutcome: Sendable {
    let value = Mutex<Result<RunReport, any Error>?>(nil)
}

extension SimulationWorld.Result {
    fileprivate func with(_ model: ModelAPI) -> Self {
        var copy = self
        copy.faults = Set(model.faults.keys)
        copy.schedule += model.log
        return copy
    }
}
