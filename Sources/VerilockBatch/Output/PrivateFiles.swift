import Foundation

/// A file the tool cannot create or write.
public struct FileWriteError: Error, Sendable, Equatable, LocalizedError, CustomStringConvertible {
    /// The file's path.
    public var path: String
    /// What went wrong.
    public var reason: String

    public var description: String { "cannot write \(path): \(reason)" }
    public var errorDescription: String? { description }
}

/// Files that hold personal data or tokens: created 0600 whatever the umask, in folders made 0700.
public enum PrivateFiles {
    /// Creates the folders above `path` (0700) and the file itself (0600) if it does not exist.
    public static func prepareFile(at path: String) throws(FileWriteError) {
        try makeParentDirectories(of: path)
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileWriteError(path: path, reason: String(cString: strerror(errno))) }
        close(fd)
    }

    /// Creates the missing folders above `path`, each with mode 0700.
    public static func makeParentDirectories(of path: String) throws(FileWriteError) {
        let parent = PathName.parent(of: path)
        guard !parent.isEmpty, parent != path, !FileManager.default.fileExists(atPath: parent) else { return }
        try makeParentDirectories(of: parent)
        if mkdir(parent, 0o700) != 0 && errno != EEXIST {
            throw FileWriteError(path: parent, reason: String(cString: strerror(errno)))
        }
    }

    /// The mode of `path` if group or others may read or write it (a private file that is not
    /// private), else nil.
    public static func exposedMode(of path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let mode = Int(info.st_mode) & 0o777
        return mode & 0o077 != 0 ? mode : nil
    }

    /// Opens a fresh temporary file beside `path`, mode 0600; returns its descriptor and path.
    public static func createTemporary(beside path: String) throws(FileWriteError) -> (Int32, String) {
        try makeParentDirectories(of: path)
        let directory = PathName.parent(of: path)
        let name = "." + PathName.lastComponent(of: path) + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let temporary = directory.isEmpty ? name : directory == "/" ? "/" + name : directory + "/" + name
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileWriteError(path: path, reason: String(cString: strerror(errno))) }
        fchmod(fd, 0o600)
        return (fd, temporary)
    }
}

/// A buffered writer to a temporary file that replaces `path` only on ``commit()``.
public final class AtomicFileWriter {
    /// The final path.
    public let path: String
    private let descriptor: Int32
    private let temporaryPath: String
    private var buffer: [UInt8] = []
    private var finished = false

    /// Starts writing `path` (through a temporary file beside it).
    public init(path: String) throws(FileWriteError) {
        self.path = path
        (descriptor, temporaryPath) = try PrivateFiles.createTemporary(beside: path)
        buffer.reserveCapacity(1 << 16)
    }

    deinit {
        if !finished {
            close(descriptor)
            unlink(temporaryPath)
        }
    }

    /// Appends bytes.
    public func write(_ bytes: some Sequence<UInt8>) throws(FileWriteError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { try flush() }
    }

    private func flush() throws(FileWriteError) {
        var offset = 0
        while offset < buffer.count {
            let written = buffer[offset...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw FileWriteError(path: path, reason: String(cString: strerror(errno)))
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, syncs and renames the file into place.
    public func commit() throws(FileWriteError) {
        try flush()
        finished = true
        defer { close(descriptor) }
        if fsync(descriptor) != 0 || rename(temporaryPath, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw FileWriteError(path: path, reason: reason)
        }
    }
}
