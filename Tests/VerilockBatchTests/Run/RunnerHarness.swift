import Foundation
import Logging

@testable import VerilockBatch

/// A job in a temporary folder, run by ``BatchRunner`` against a fake API on a test clock.
struct RunnerHarness {
    let folder = TemporaryDirectory()
    var job = JobConfiguration()

    init(inputs: [String: String], concurrency: Int = 4) {
        for (name, text) in inputs { folder.write(name, text) }
        job.name = "test"
        job.inputs = inputs.keys.sorted().map { folder.path + "/" + $0 }
        job.template = SessionTemplate(profileID: "7f3c2a10-5d4e-4b8a-9c61-2e0f8d9b3a47")
        job.ledgerPath = folder.path + "/state/ledger.sqlite"
        job.outputPath = folder.path + "/out/output.csv"
        job.rejectsPath = folder.path + "/out/rejects.csv"
        job.api.concurrency = concurrency
        job.api.rateLimit = RateLimit(requestsPerSecond: 1000)
        job.api.maxAttempts = 3
    }

    func run(_ api: FakeSessionsAPI, now: Date = Date(), clock: TestClock = TestClock()) async throws -> RunReport {
        try await run(api: api, now: now, clock: clock)
    }

    func run(api: any SessionsAPI, now: Date = Date(), clock: TestClock = TestClock()) async throws -> RunReport {
        try await BatchRunner(
            job: job, api: api, clock: clock, now: { now }, jitter: { 0.5 },
            logger: Logger(label: "test")
        ).run()
    }

    /// The output file's rows as dictionaries by column name; a missing file throws.
    var outputRows: [[String: String]] { get throws { try Self.rows(job.outputPath) } }
    /// The rejects file's rows as dictionaries by column name; a missing file throws.
    var rejectRows: [[String: String]] { get throws { try Self.rows(job.rejectsPath) } }

    /// The records of the CSV file at `path` (read with the tool's own RFC 4180 reader). A missing
    /// or unreadable file, a read error or a malformed record throws: a test must not pass because
    /// nothing was written.
    static func rows(_ path: String) throws -> [[String: String]] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ResultFileError(path: path, reason: "the run did not write this file")
        }
        var reader = try CSVReader(source: try ByteChunkReader(path: path))
        var rows: [[String: String]] = []
        while let record = try reader.next() {
            guard case .cells(let cells) = record.content else {
                throw ResultFileError(path: path, reason: "line \(record.line): \(record.content)")
            }
            guard cells.count == reader.header.count else {
                throw ResultFileError(
                    path: path, reason: "line \(record.line): \(cells.count) cells for \(reader.header.count) columns")
            }
            rows.append(Dictionary(uniqueKeysWithValues: zip(reader.header, cells)))
        }
        return rows
    }
}

/// A file the run should have written is missing or not a well-formed CSV.
struct ResultFileError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "\(path): \(reason)" }
}
