import ArgumentParser
import VerilockBatch

/// `IncludeMode` as an option value: argument-parser checks it and lists the choices in the help.
extension IncludeMode: ExpressibleByArgument {}
