import Foundation

/// Where the API key comes from: the environment, or a key file. Never a flag or a job file.
public enum APIKey {
    /// Reads the key the job's settings point at; `warn` hears about a key file others may read.
    public static func resolve(
        _ settings: APISettings,
        environment: [String: String],
        warn: (String) -> Void = { _ in }
    ) throws(APIError) -> String {
        if let file = settings.keyFile {
            if let mode = PrivateFiles.exposedMode(of: file) {
                warn(
                    "the API key file \(file) is readable by others (mode \(String(mode, radix: 8))): run chmod 600 on it"
                )
            }
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw .unreadableKeyFile(path: file, reason: (error as NSError).localizedDescription)
            }
            let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !key.isEmpty else { throw .missingKey(source: "a key in \(file)") }
            return key
        }
        let key = environment[settings.keyEnvironmentVariable]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard !key.isEmpty else { throw .missingKey(source: settings.keyEnvironmentVariable) }
        return key
    }
}
