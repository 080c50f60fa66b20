import Foundation
import Synchronization

/// The one executor a deterministic simulation runs on: every job of the simulated world (the
/// runner's tasks, its actors, the model API's server tasks) goes through one FIFO queue, run
/// on one thread, so a seed always produces the same interleaving. When the queue is empty the
/// ``SimulationClock`` moves to the next deadline.
final class SimulationExecutor: TaskExecutor, Sendable {
    /// Why ``run(until:stopAfterJobs:)`` returned.
    enum Stop: Equatable {
        /// The condition became true.
        case done
        /// The job budget was reached (a crash point).
        case jobBudget
        /// Nothing is left to run and nobody sleeps, yet the condition is false.
        case stuck
    }

    private struct Queue {
        var jobs: [UnownedJob] = []
        var head = 0
    }

    let clock: SimulationClock
    private let queue = Mutex(Queue())
    private let jobsRun = Mutex(0)

    init(clock: SimulationClock) {
        self.clock = clock
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.withLock { $0.jobs.append(job) }
    }

    /// Jobs run so far.
    var jobsCount: Int { jobsRun.withLock { $0 } }

    private func nextJob() -> UnownedJob? {
        queue.withLock { queue in
            guard queue.head < queue.jobs.count else { return nil }
            let job = queue.jobs[queue.head]
            queue.head += 1
            if queue.head > 4096 {
                queue.jobs.removeFirst(queue.head)
                queue.head = 0
            }
            return job
        }
    }

    /// Runs jobs (on the calling thread) until `done()` holds, `stopAfterJobs` more jobs have
    /// run, or nothing is left to run or wake.
    func run(until done: () -> Bool, stopAfterJobs: Int = .max) -> Stop {
        var budget = stopAfterJobs
        while true {
            if done() { return .done }
            if budget <= 0 { return .jobBudget }
            if let job = nextJob() {
                job.runSynchronously(on: asUnownedTaskExecutor())
                jobsRun.withLock { $0 += 1 }
                budget -= 1
                continue
            }
            if clock.fireNext() { continue }
            return .stuck
        }
    }

    /// Runs `body` on a thread of its own and returns its result: the simulation's jobs must not
    /// run on a thread of Swift's cooperative pool.
    static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.stackSize = 16 << 20
            thread.start()
        }
    }
}
