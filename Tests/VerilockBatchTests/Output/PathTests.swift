import Foundation
import Testing

@testable import VerilockBatch

/// Path arithmetic and the collision check, over generated path shapes.
@Suite("Paths")
struct PathTests {
    /// Generated path shapes: one character, dots, trailing and doubled slashes, missing
    /// parents, unicode, absolute and relative.
    static func shapes(seed: UInt64, count: Int) -> [String] {
        var random = SplitMix64(seed: seed)
        let parts = ["a", "b", ".", "..", "...", "ü", "日本", "x y", "-", ".hidden", "f.csv", "", "nonexistent"]
        return (0..<count).map { _ in
            var path = random.chance(0.3) ? "/" : ""
            for index in 0..<Int.random(in: 1...5, using: &random) {
                if index > 0 { path += random.chance(0.1) ? "//" : "/" }
                path += parts[Int.random(in: 0..<parts.count, using: &random)]
            }
            if random.chance(0.15) { path += "/" }
            return path
        }
    }

    @Test("parent and last component never trap and put the path back together")
    func arithmetic() {
        let seed: UInt64 = 20_261_127
        for path in Self.shapes(seed: seed, count: 5000) + ["", "/", "x", "x/", "//", "/x", "a/b/"] {
            let parent = PathName.parent(of: path)
            let last = PathName.lastComponent(of: path)
            #expect(!last.contains("/"), "seed \(seed): \(path)")
            let trimmed =
                path.count > 1 && path.hasSuffix("/") ? String(path.reversed().drop { $0 == "/" }.reversed()) : path
            let rebuilt = parent.isEmpty ? last : parent == "/" ? "/" + last : parent + "/" + last
            if !trimmed.contains("//") && trimmed != "/" && !trimmed.isEmpty {
                #expect(rebuilt == trimmed, "seed \(seed): \(path) -> \(parent) + \(last)")
            }
        }
        #expect(PathName.parent(of: "x") == "")
        #expect(PathName.parent(of: "/x") == "/")
        #expect(PathName.parent(of: "a/b/") == "a")
        #expect(PathName.lastComponent(of: "a/b/") == "b")
    }

    @Test("resolving: the same file by two spellings resolves alike, different files do not")
    func resolving() throws {
        let folder = TemporaryDirectory()
        folder.write("in.csv", "x")
        try FileManager.default.createSymbolicLink(
            atPath: folder.path + "/link.csv", withDestinationPath: folder.path + "/in.csv")
        let base = folder.path
        let same = [
            "in.csv", "./in.csv", "sub/../in.csv", "missing/../in.csv", "link.csv", base + "/in.csv", base + "//in.csv",
        ]
        let resolved = Set(same.map { PathName.resolved($0, currentDirectory: base) })
        #expect(resolved.count == 1, "\(resolved)")
        #expect(
            PathName.resolved("out/in.csv", currentDirectory: base)
                != PathName.resolved("in.csv", currentDirectory: base))
    }

    @Test("every written path that names a read file is refused; distinct ones pass (generated shapes)")
    func collisions() throws {
        let folder = TemporaryDirectory()
        let ledger = folder.path + "/state/ledger.sqlite"
        let input = folder.write("in.csv", "x")
        let reads = [PathCollisions.File("input", input)] + PathCollisions.ledger(ledger)
        for target in [input, ledger, ledger + "-wal", ledger + "-shm", ledger + ".lock", folder.path + "/./in.csv"] {
            let check = PathCollisions(reads: reads, writes: [PathCollisions.File("output", target)])
            #expect(throws: JobError.self, "\(target)") { try check.check() }
        }
        let twice = PathCollisions(
            reads: reads,
            writes: [
                PathCollisions.File("output", folder.path + "/out/a.csv"),
                PathCollisions.File("rejects file", folder.path + "/out/../out/a.csv"),
            ])
        #expect(throws: JobError.self) { try twice.check() }
        let seed: UInt64 = 7
        for shape in Self.shapes(seed: seed, count: 300) where !shape.hasPrefix("/") {
            let write = folder.path + "/w/" + shape
            let check = PathCollisions(reads: reads, writes: [PathCollisions.File("output", write)])
            let resolved = PathName.resolved(write)
            let clashes = reads.contains { PathName.resolved($0.path) == resolved }
            let folderLike =
                write.hasSuffix("/") || [".", ".."].contains(PathName.lastComponent(of: write))
                || FileManager.default.fileExists(atPath: write)
            do {
                try check.check()
                #expect(!clashes && !folderLike, "seed \(seed): \(write) passed")
            } catch {
                #expect(clashes || folderLike, "seed \(seed): \(write) refused: \(error)")
            }
        }
    }
}

extension PathTests {
    @Test("a run whose output is its input stops with 78 before anything is sent; the input is unchanged")
    func runRefusesCollision() async throws {
        var harness = RunnerHarness(inputs: ["a.csv": "external_id\nu-1\n"])
        harness.job.outputPath = harness.job.inputs[0]
        let api = FakeSessionsAPI()
        do {
            _ = try await harness.run(api)
            Issue.record("the run went ahead")
        } catch {
            #expect(ExitStatus(for: error) == .invalidJob)
            #expect("\(error)".contains("input"))
        }
        #expect(api.requests.isEmpty)
        #expect(try String(contentsOfFile: harness.job.inputs[0], encoding: .utf8) == "external_id\nu-1\n")
    }

    @Test("a ledger reached through a symlink: its real WAL, shared-memory and lock files are refused as outputs")
    func symlinkedLedger() throws {
        let folder = TemporaryDirectory()
        _ = try SQLiteLedger(path: folder.path + "/state.sqlite")
        try FileManager.default.createSymbolicLink(
            atPath: folder.path + "/link.sqlite", withDestinationPath: folder.path + "/state.sqlite")
        for companion in ["", "-wal", "-shm", ".lock"] {
            let collisions = PathCollisions(
                reads: PathCollisions.ledger(folder.path + "/link.sqlite"),
                writes: [PathCollisions.File("output", folder.path + "/state.sqlite" + companion)])
            #expect(throws: JobError.self, "state.sqlite\(companion)") { try collisions.check() }
        }
    }

    @Test("a device or FIFO is refused as an output: the finished file would replace it")
    func specialFiles() throws {
        let folder = TemporaryDirectory()
        let fifo = folder.path + "/fifo"
        try #require(mkfifo(fifo, 0o600) == 0)
        for path in [fifo, "/dev/null"] {
            #expect {
                try PathCollisions(reads: [], writes: [PathCollisions.File("output", path)]).check()
            } throws: { error in
                "\(error)".contains("is a device, FIFO or socket")
            }
        }
    }

    @Test("export's reads: the job's inputs (globs expanded), the job file, the key file and the ledger's files")
    func exportReads() throws {
        let folder = TemporaryDirectory()
        _ = folder.write("a-1.csv", "x")
        var job = JobConfiguration()
        job.inputs = [folder.path + "/a-*.csv"]
        job.api.keyFile = folder.path + "/key"
        let reads = PathCollisions.reads(
            of: job, jobFile: folder.path + "/job.yaml", ledgerPath: folder.path + "/l.sqlite")
        for target in ["a-1.csv", "job.yaml", "key", "l.sqlite", "l.sqlite-wal", "l.sqlite.lock"] {
            let collisions = PathCollisions(
                reads: reads, writes: [PathCollisions.File("output", folder.path + "/" + target)])
            #expect(throws: JobError.self, "\(target)") { try collisions.check() }
        }
        #expect(throws: Never.self) {
            try PathCollisions(reads: reads, writes: [PathCollisions.File("output", folder.path + "/out.csv")]).check()
        }
    }

    @Test("the ledger's lock file is never opened through a symlink")
    func lockSymlink() throws {
        let folder = TemporaryDirectory()
        let victim = folder.write("victim.txt", "keep me")
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/l.sqlite.lock", withDestinationPath: victim)
        #expect(throws: LedgerError.self) { _ = try LedgerLock(ledgerPath: folder.path + "/l.sqlite") }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep me")
    }
}
