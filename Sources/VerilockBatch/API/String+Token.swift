extension String {
    /// Whether the text is made of token characters only (ASCII letters, digits, `.`, `_`, `:`,
    /// `-`), as the API's ids, tokens and request ids are.
    var isTokenText: Bool {
        utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || [0x2E, 0x5F, 0x3A, 0x2D].contains(byte)
        }
    }
}
