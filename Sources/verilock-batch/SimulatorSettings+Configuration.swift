import VerilockBatch
import VerilockSimulator

extension SimulatorSettings {
    /// The simulator configuration a job's `api.simulator` settings ask for.
    var configuration: SimulatorConfiguration {
        SimulatorConfiguration(
            profiles: profiles,
            rateLimitPerMinute: rateLimitPerMinute,
            windowSeconds: windowSeconds,
            latencyMilliseconds: latencyMilliseconds,
            faults: FaultInjection(
                failRate: failRate,
                resetBeforeCommitRate: resetBeforeCommitRate,
                resetAfterCommitRate: resetAfterCommitRate,
                slowRate: slowRate,
                slowMilliseconds: slowMilliseconds,
                seed: seed
            ),
            idempotency: idempotency,
            lookupFilter: lookupFilter,
            lookupEndpoint: lookupEndpoint
        )
    }
}
