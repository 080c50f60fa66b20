import ArgumentParser

/// `run --progress`: when the progress line or progress logs are shown.
enum ProgressOption: String, CaseIterable, ExpressibleByArgument {
    /// A line on a terminal, a log line every 30 s otherwise.
    case auto
    /// The line, even when standard error is not a terminal.
    case always
    /// Nothing.
    case never
}
