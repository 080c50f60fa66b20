import ArgumentParser
import VerilockBatch

/// `InputCompression` as an option value: argument-parser checks it and lists the choices in the help.
extension InputCompression: ExpressibleByArgument {}
