import ArgumentParser
import VerilockBatch

/// `InputFormat` as an option value: argument-parser checks it and lists the choices in the help.
extension InputFormat: ExpressibleByArgument {}
