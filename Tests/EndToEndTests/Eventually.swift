/// Checks `condition` up to `tries` times, pausing `pause` between tries; true as soon as it holds.
///
/// Only for waiting on another process (the simulator or the binary), where there is no event to
/// await. The caller asserts on the answer, never on how long it took.
func eventually(
    tries: Int = 1500,
    pause: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    for attempt in 1...max(tries, 1) {
        if try await condition() { return true }
        if attempt < tries { try await Task.sleep(for: pause) }
    }
    return false
}
