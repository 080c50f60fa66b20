import Foundation
import Testing

/// The deterministic simulation of the whole pipeline (``SimulationWorld``), over many seeds.
///
/// `SIM_SEEDS=N` runs N seeds (300 by default) from `SIM_FIRST_SEED` (1); `SIM_SEED=S` runs
/// one seed and prints its schedule: the server, the job, every run, crash and fault;
/// `SIM_TRACE_FILE=PATH` writes every seed's schedule there, to compare two runs.
@Suite("Deterministic simulation")
struct DeterministicSimulationTests {
    static var seeds: [UInt64] {
        let environment = ProcessInfo.processInfo.environment
        if let one = environment["SIM_SEED"].flatMap(UInt64.init) { return [one] }
        let count = environment["SIM_SEEDS"].flatMap(Int.init) ?? 300
        let first = environment["SIM_FIRST_SEED"].flatMap(UInt64.init) ?? 1
        return (0..<UInt64(max(count, 0))).map { first + $0 }
    }

    @Test("no duplicate session and no lost row, whatever the server honours, through faults and crashes")
    func simulate() async throws {
        let seeds = Self.seeds
        let folder = TemporaryDirectory()
        let workers = min(2, seeds.count)
        let results = await withTaskGroup(of: [SimulationWorld.Result].self) { group in
            for worker in 0..<workers {
                let mine = seeds.enumerated().filter { $0.offset % workers == worker }.map(\.element)
                group.addTask {
                    await SimulationExecutor.onOwnThread {
                        mine.map { seed in
                            let path = folder.path + "/seed-\(seed)"
                            defer { try? FileManager.default.removeItem(atPath: path) }
                            return SimulationWorld(seed: seed, folder: path).run()
                        }
                    }
                }
            }
            var all: [SimulationWorld.Result] = []
            for await part in group { all += part }
            return all.sorted { $0.seed < $1.seed }
        }
        #expect(results.count == seeds.count)
        var tally: [ModelAPI.Fault: Int] = [:]
        for result in results {
            for fault in result.faults { tally[fault, default: 0] += 1 }
        }
        let hits = ModelAPI.Fault.allCases.map { "\($0.rawValue) \(tally[$0] ?? 0)" }.joined(separator: ", ")
        let failing = results.filter { !$0.violations.isEmpty }
        print("simulation: \(results.count) seeds, \(failing.count) with violations; seeds hitting each: \(hits)")
        if !failing.isEmpty { print("simulation: failing seeds \(failing.map(\.seed))") }
        if let trace = ProcessInfo.processInfo.environment["SIM_TRACE_FILE"] {
            let text = results.map { $0.schedule.joined(separator: "\n") }.joined(separator: "\n\n") + "\n"
            try text.write(toFile: trace, atomically: true, encoding: .utf8)
        }
        if seeds.count == 1, let only = results.first {
            print(only.schedule.joined(separator: "\n"))
        }
        for result in failing.prefix(5) {
            Issue.record(
                Comment(
                    rawValue: "seed \(result.seed) (replay: SIM_SEED=\(result.seed) swift test --filter "
                        + "DeterministicSimulationTests):\n" + result.violations.joined(separator: "\n")
                        + "\nschedule:\n" + result.schedule.joined(separator: "\n")))
        }
        // Every fault kind the simulation knows must have been exercised by a full run.
        if seeds.count >= 300 {
            for fault in ModelAPI.Fault.allCases {
                #expect(tally[fault] ?? 0 > 0, "no seed hit \(fault.rawValue)")
            }
        }
    }
}
