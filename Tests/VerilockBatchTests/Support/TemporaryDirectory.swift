import Foundation
import Testing

/// A fresh folder per test, removed when the value is released.
final class TemporaryDirectory: Sendable {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "verilock-tests-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `contents` to `name` inside the folder; returns its path.
    @discardableResult
    func write(_ name: String, _ contents: String) -> String {
        write(name, bytes: Array(contents.utf8))
    }

    /// Writes raw bytes to `name` inside the folder; returns its path.
    @discardableResult
    func write(_ name: String, bytes: [UInt8]) -> String {
        let file = path + "/" + name
        if !FileManager.default.createFile(atPath: file, contents: Data(bytes)) {
            Issue.record("could not write \(file)")
        }
        return file
    }

    /// The contents of `name` (a path inside the folder, or absolute); a missing or unreadable
    /// file throws.
    func read(_ name: String) throws -> String {
        let file = name.hasPrefix("/") ? name : path + "/" + name
        return try String(contentsOfFile: file, encoding: .utf8)
    }
}
