/// Where a row is: its input file (by index in the run) and the line it starts on.
public struct RowPlace: Sendable, Equatable {
    public var fileIndex: Int
    public var line: Int

    public init(fileIndex: Int, line: Int) {
        self.fileIndex = fileIndex
        self.line = line
    }
}
