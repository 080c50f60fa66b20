import ArgumentParser
import VerilockBatch

extension IncludeMode: ExpressibleByArgument {}
