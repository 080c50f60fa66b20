import ArgumentParser
import VerilockBatch

extension SessionSelection.Status: ExpressibleByArgument {}
