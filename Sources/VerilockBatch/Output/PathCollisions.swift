import Foundation

/// Refuses a run whose files would overwrite one another: every path it writes is compared,
/// resolved (``PathName/resolved(_:currentDirectory:)``), with every path it reads and with the
/// others it writes, before anything is sent.
public struct PathCollisions: Sendable {
    /// A file with what it is to the run (`output`, `input`, `ledger`...).
    public struct File: Sendable, Equatable {
        public var role: String
        public var path: String

        public init(_ role: String, _ path: String) {
            self.role = role
            self.path = path
        }
    }

    /// The files the run reads (inputs, ledger and its companions, key file).
    public var reads: [File]
    /// The files the run writes (output, rejects, report, metrics).
    public var writes: [File]

    public init(reads: [File], writes: [File]) {
        self.reads = reads
        self.writes = writes
    }

    /// The reads of a ledger at `path`: the file, its WAL and shared-memory files and its lock,
    /// beside `path` and beside the file it resolves to (SQLite and the lock put them beside
    /// the real file when `path` is a symlink).
    public static func ledger(_ path: String) -> [File] {
        let real = PathName.resolved(path)
        return [path, real].flatMap { base in
            [
                File("ledger", base), File("ledger", base + "-wal"), File("ledger", base + "-shm"),
                File("ledger lock", base + ".lock"),
            ]
        }
    }

    /// What a command that writes from a ledger (`export`) must not overwrite: the job's inputs
    /// (globs expanded where they match), the job file, the key file and the ledger's files.
    public static func reads(of job: JobConfiguration, jobFile: String?, ledgerPath: String?) -> [File] {
        let inputs = (try? InputStage.expandInputs(job.inputs)) ?? job.inputs
        return inputs.filter { $0 != "-" }.map { File("input", $0) } + (ledgerPath.map(ledger) ?? [])
            + (jobFile.map { [File("job file", $0)] } ?? [])
            + (job.api.keyFile.map { [File("API key file", $0)] } ?? [])
    }

    /// Throws ``JobError/pathCollision(_:_:)`` naming the first two files that are one, and
    /// ``JobError/invalidValue(path:line:key:message:)`` for a file to write that is a folder or
    /// a device, FIFO or socket (the finished file is renamed onto its path, which would replace
    /// `/dev/null` itself).
    public func check() throws(JobError) {
        for write in writes {
            var info = stat()
            if lstat(write.path, &info) == 0, ![S_IFREG, S_IFLNK, S_IFDIR].contains(info.st_mode & S_IFMT) {
                throw .invalidValue(
                    path: write.path, line: nil, key: write.role,
                    message: "is a device, FIFO or socket: name a regular file to write")
            }
            var isDirectory: ObjCBool = false
            if write.path.hasSuffix("/") || PathName.lastComponent(of: write.path) == "."
                || PathName.lastComponent(of: write.path) == ".."
                || (FileManager.default.fileExists(atPath: write.path, isDirectory: &isDirectory)
                    && isDirectory.boolValue)
            {
                throw .invalidValue(
                    path: write.path, line: nil, key: write.role, message: "is a folder: name a file to write")
            }
        }
        let resolvedReads = reads.filter { $0.path != "-" }.map { ($0, PathName.resolved($0.path)) }
        var seen: [(File, String)] = []
        for write in writes {
            let resolved = PathName.resolved(write.path)
            if let clash = resolvedReads.first(where: { $0.1 == resolved }) ?? seen.first(where: { $0.1 == resolved }) {
                throw .pathCollision("\(write.role) \(write.path)", "\(clash.0.role) \(clash.0.path)")
            }
            seen.append((write, resolved))
        }
    }
}
