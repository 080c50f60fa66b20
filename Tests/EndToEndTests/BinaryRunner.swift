import Foundation
import Synchronization
import Testing

/// The built `verilock-batch` binary, run as a child process with a bounded time: output goes to
/// files and the exit is awaited through the termination handler, so no thread of the test
/// process blocks (the simulator serving the binary runs in it). A process that outlives its
/// bound is killed by pid.
final class BinaryRunner: Sendable {
    struct Result {
        var exitCode: Int32
        var stdout: String
        var stderr: String
    }

    /// The binary beside the test bundle (SwiftPM builds both into the same folder).
    static var binaryPath: String {
        let bundleFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            bundleFolder.appendingPathComponent("verilock-batch").path,
            repositoryRoot.appendingPathComponent(".build/debug/verilock-batch").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[1]
    }

    /// The repository's root folder.
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// The child's pid.
    let pid: Int32
    private let capture: String
    private let exit: AsyncStream<Int32>
    private let watchdog: Task<Void, Never>
    private let exited: ExitFlag

    /// Set by the termination handler (a class, so the handler can hold it before `self` exists).
    private final class ExitFlag: Sendable {
        let value = Mutex(false)
    }

    /// Starts the binary with `arguments`; `VERILOCK_API_KEY` is unset unless `environment` sets it.
    /// Its standard input is the file at `standardInput`, or empty.
    init(
        _ arguments: [String],
        environment: [String: String] = [:],
        directory: String? = nil,
        standardInput: String? = nil,
        timeout: Duration = .seconds(120)
    ) throws {
        let binary = Self.binaryPath
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the binary first: swift build")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["VERILOCK_API_KEY"] = nil
        env.merge(environment) { _, new in new }
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        capture = NSTemporaryDirectory() + "verilock-run-" + UUID().uuidString
        _ = FileManager.default.createFile(atPath: capture + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: capture + ".err", contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: capture + ".out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: capture + ".err"))
        if let standardInput {
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: standardInput))
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        exit = stream
        let exited = ExitFlag()
        self.exited = exited
        process.terminationHandler = { finished in
            exited.value.withLock { $0 = true }
            continuation.yield(finished.terminationStatus)
            continuation.finish()
        }
        try process.run()
        let pid = process.processIdentifier
        self.pid = pid
        watchdog = Task {
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { kill(pid, SIGKILL) }
        }
    }

    deinit {
        watchdog.cancel()
        try? FileManager.default.removeItem(atPath: capture + ".out")
        try? FileManager.default.removeItem(atPath: capture + ".err")
    }

    /// Sends `signal` to the child.
    func send(_ signal: Int32) {
        kill(pid, signal)
    }

    /// What the child wrote to stdout so far; a missing capture file throws.
    var stdoutSoFar: String { get throws { try String(contentsOfFile: capture + ".out", encoding: .utf8) } }

    /// What the child wrote to stderr so far; a missing capture file throws.
    var stderrSoFar: String { get throws { try String(contentsOfFile: capture + ".err", encoding: .utf8) } }

    /// Whether the child has exited (its termination was reported).
    var hasExited: Bool { exited.value.withLock { $0 } }

    /// Waits for the child to exit; returns its exit code, or the signal that killed it.
    func waitForExit() async -> Int32 {
        var code: Int32 = -1
        for await status in exit { code = status }
        watchdog.cancel()
        return code
    }

    /// Waits for the child to exit, then reads what it wrote; a missing capture file throws.
    func wait() async throws -> Result {
        let code = await waitForExit()
        return Result(exitCode: code, stdout: try stdoutSoFar, stderr: try stderrSoFar)
    }

    /// Runs the binary to its end.
    static func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        directory: String? = nil,
        standardInput: String? = nil,
        timeout: Duration = .seconds(120)
    ) async throws -> Result {
        try await BinaryRunner(
            arguments, environment: environment, directory: directory, standardInput: standardInput, timeout: timeout
        ).wait()
    }
}
