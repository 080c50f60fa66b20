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

    /// The reads of a ledger at `path`: the file, its WAL and shared-memory files and its lock.
    public static func ledger(_ path: String) -> [File] {
        [
            File("ledger", path), File("ledger", path + "-wal"), File("ledger", path + "-shm"),
            File("ledger lock", path + ".lock"),
        ]
    }

    /// Throws ``JobError/pathCollision(_:_:)`` naming the first two files that are one, and
    /// ``JobError/invalidValue(path:line:key:message:)`` for a file to write that is a folder.
    public func check() throws(JobError) {
        for write in writes {
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
