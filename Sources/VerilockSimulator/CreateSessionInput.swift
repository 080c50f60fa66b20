import Foundation

/// A create request's body as the simulator checks it: strictly, each field with its JSON type,
/// unknown fields refused, every problem collected as a field error (the 422 `details`).
struct CreateSessionInput: Decodable {
    var profileID: String?
    var applicantEmail: String?
    var applicantName: String?
    var externalID: String?
    var redirectURL: String?
    var expiresIn: Int?
    var hasMetadata = false
    var fieldErrors: [String: [String]] = [:]

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private struct AnyObject: Decodable {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        for key in container.allKeys {
            func string() -> String? {
                if let value = try? container.decode(String.self, forKey: key) { return value }
                fieldErrors[key.stringValue, default: []].append("must be a string")
                return nil
            }
            switch key.stringValue {
            case "profile_id": profileID = string()
            case "applicant_email": applicantEmail = string()
            case "applicant_name": applicantName = string()
            case "external_id": externalID = string()
            case "redirect_url": redirectURL = string()
            case "expires_in":
                if (try? container.decode(Bool.self, forKey: key)) != nil {
                    fieldErrors["expires_in", default: []].append("must be an integer")
                } else if let value = try? container.decode(Int.self, forKey: key) {
                    expiresIn = value
                } else {
                    fieldErrors["expires_in", default: []].append("must be an integer")
                }
            case "metadata":
                if (try? container.nestedContainer(keyedBy: Key.self, forKey: key)) != nil {
                    hasMetadata = true
                } else {
                    fieldErrors["metadata", default: []].append("must be an object")
                }
            default:
                fieldErrors[key.stringValue, default: []].append("is not a known field")
            }
        }
    }

    /// Checks the values; returns field errors (empty when valid).
    func validate() -> [String: [String]] {
        var errors = fieldErrors
        if let profileID {
            if UUID(uuidString: profileID) == nil { errors["profile_id", default: []].append("must be a UUID") }
        } else if errors["profile_id"] == nil {
            errors["profile_id", default: []].append("is required")
        }
        if let applicantEmail {
            let parts = applicantEmail.split(separator: "@", omittingEmptySubsequences: false)
            if parts.count != 2 || parts[0].isEmpty || !parts[1].contains(".") {
                errors["applicant_email", default: []].append("must be a valid email address")
            }
        }
        if let expiresIn, !(300...86400).contains(expiresIn) {
            errors["expires_in", default: []].append("must be between 300 and 86400")
        }
        if let redirectURL {
            let url = URL(string: redirectURL)
            let scheme = url?.scheme?.lowercased()
            if url?.host == nil || (scheme != "https" && scheme != "http") {
                errors["redirect_url", default: []].append("must be an absolute URL")
            }
        }
        if let externalID, externalID.count > 255 {
            errors["external_id", default: []].append("must be at most 255 characters")
        }
        return errors
    }
}
