import Foundation

/// Path arithmetic on plain strings. Foundation's `NSString` path methods trap on some inputs on
/// Linux (a bare file name, a trailing slash), so the tool uses these instead.
public enum PathName {
    /// The folder part of `path`: "" for a bare name, "/" for a file in the root. Trailing
    /// slashes are ignored (`a/b/` is `b` in `a`).
    public static func parent(of path: String) -> String {
        let trimmed = trimmingTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        if slash == trimmed.startIndex { return "/" }
        return trimmingTrailingSlashes(String(trimmed[..<slash]))
    }

    /// The last component of `path` ("" for "/" or ""). Trailing slashes are ignored.
    public static func lastComponent(of path: String) -> String {
        let trimmed = trimmingTrailingSlashes(path)
        guard trimmed != "/" else { return "" }
        guard let slash = trimmed.lastIndex(of: "/") else { return trimmed }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    /// `name` without its last extension (`job.yaml` is `job`; `.hidden` stays as it is).
    public static func deletingExtension(_ name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    /// The absolute path `path` stands for, symlinks resolved where they exist: the real path of
    /// its deepest existing part, then the rest with `.` and `..` applied. Two paths that
    /// resolve alike name one file.
    public static func resolved(_ path: String, currentDirectory: String = FileManager.default.currentDirectoryPath)
        -> String
    {
        let absolute = path.hasPrefix("/") ? path : currentDirectory + "/" + path
        var components = absolute.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var missing: [String] = []
        while true {
            let candidate = "/" + components.joined(separator: "/")
            if let real = realPath(candidate) {
                var result = real == "/" ? [] : real.split(separator: "/").map(String.init)
                for component in missing.reversed() {
                    switch component {
                    case ".": continue
                    case "..": _ = result.popLast()
                    default: result.append(component)
                    }
                }
                return "/" + result.joined(separator: "/")
            }
            guard let last = components.popLast() else { return absolute }
            missing.append(last)
        }
    }

    private static func realPath(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    private static func trimmingTrailingSlashes(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }
}
