import Foundation
import Synchronization

/// An exclusive lock on a ledger: `flock` on a lock file beside it, so a killed process never
/// leaves a stale lock. The file names the holder (pid, host, start time) for the next comer.
public final class LedgerLock: Sendable {
    private let descriptor: Int32
    private let held = Mutex(true)

    /// Takes the lock for `ledgerPath` or throws ``LedgerError/locked(path:holder:)`` at once.
    public init(ledgerPath: String, now: Date = Date()) throws(LedgerError) {
        let path = ledgerPath + ".lock"
        do {
            try PrivateFiles.makeParentDirectories(of: path)
        } catch {
            throw .cannotOpen(path: ledgerPath, reason: error.description)
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
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
