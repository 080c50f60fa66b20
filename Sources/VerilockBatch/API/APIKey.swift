import Foundation

/// Where the API key comes from: the environment, or a key file. Never a flag or a job file.
public enum APIKey {
    /// Reads the key the job's settings point at.
    public static func resolve(_ settings: APISettings, environment: [String: String]) throws(APIError) -> String {
        if let file = settings.keyFile {
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
