import Foundation
import Synchronization

/// An exclusive lock on a ledger: `flock` on a lock file beside it, so a killed process never
/// leaves a stale lock. The file names the holder (pid, host, start time) for the next comer.
public final class LedgerLock: Sendable {
    private let descriptor: Int32
    private let held = Mutex(true)

    /// Takes the lock for `ledgerPath` or throws ``LedgerError/locked(path:holder:)`` at once.
    public init(ledgerPath: String, now: Date = Date()) throws(LedgerError) {
        // Beside the file the ledger path resolves to: two paths to one ledger (a symlink, `..`)
        // share one lock.
        try? PrivateFiles.makeParentDirectories(of: ledgerPath)
        let path = PathName.resolved(ledgerPath) + ".lock"
        do {
            try PrivateFiles.makeParentDirectories(of: path)
        } catch {
            throw .cannotOpen(path: ledgerPath, reason: error.description)
        }
        // Never through a symlink: its target would be overwritten with the holder's name.
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            let reason = errno == ELOOP ? "it is a symbolic link; remove it" : String(cString: strerror(errno))
            throw .cannotOpen(path: path, reason: reason)
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw .cannotOpen(path: path, reason: "it is not a regular file")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var bytes = [UInt8](repeating: 0, count: 512)
            let count = pread(fd, &bytes, bytes.count, 0)
            close(fd)
            let holder = count > 0 ? String(decoding: bytes[0..<count], as: UTF8.self) : "unknown holder"
            throw .locked(path: ledgerPath, holder: holder.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let holder = "pid \(getpid()) on \(ProcessInfo.processInfo.hostName), started \(Timestamp.string(now))\n"
        _ = ftruncate(fd, 0)
        _ = holder.utf8CString.withUnsafeBufferPointer { pwrite(fd, $0.baseAddress, holder.utf8.count, 0) }
        descriptor = fd
    }

    /// Releases the lock (also done when the value is released).
    public func unlock() {
        let wasHeld = held.withLock { held in
            defer { held = false }
            return held
        }
        guard wasHeld else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    deinit {
        unlock()
    }
}
