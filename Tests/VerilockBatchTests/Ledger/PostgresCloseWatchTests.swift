import Synchronization
import Testing

@testable import VerilockBatch

@Suite("PostgreSQL ledger close watch")
struct PostgresCloseWatchTests {
    /// Counts the failures it is told of.
    final class Failures: Sendable {
        let count = Mutex(0)
        var fail: @Sendable (any Error) -> Void { { _ in self.count.withLock { $0 += 1 } } }
    }

    @Test("a closing connection fails the answer waited for, and at once any answer waited for after it; none other")
    func failsWhatIsWaitedFor() {
        let watch = PostgresLedger.CloseWatch(location: "postgresql://u@h:5432/d?sslmode=verify-full")
        let answered = Failures()
        watch.watch(answered.fail)
        watch.watch(nil)
        let waiting = Failures()
        watch.watch(waiting.fail)
        watch.connectionClosed()
        let later = Failures()
        watch.watch(later.fail)
        #expect(answered.count.withLock { $0 } == 0)
        #expect(waiting.count.withLock { $0 } == 1)
        #expect(later.count.withLock { $0 } == 1)
    }
}
