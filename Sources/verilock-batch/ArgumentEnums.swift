import ArgumentParser
import VerilockBatch

// The library's setting enums, as option values: argument-parser checks them and lists the
// choices in the help.

extension IncludeMode: ExpressibleByArgument {}

extension InputFormat: ExpressibleByArgument {}

extension InputCompression: ExpressibleByArgument {}
