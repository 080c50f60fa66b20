/// The field errors of a 422 answer.
struct FieldErrors: Error, Sendable, Equatable {
    var fields: [String: [String]]
}
