/// Caps retries at a share of the requests a run has sent, shared by all its requests, so a
/// broken API is never hammered: past the budget, a retry is refused and the run stops cleanly.
///
/// A retry is allowed while `retries < floor + ratio × requests`: with the defaults (20%, a
/// floor of 10), a run whose every request fails stops after about 17 requests, and a healthy
/// run with occasional failures never notices the budget.
public actor RetryBudget {
    private let ratio: Double
    private let floor: Int
    private var requests = 0
    private var retries = 0

    /// A budget of `ratio` of the requests, plus `floor` retries.
    public init(ratio: Double = 0.2, floor: Int = 10) {
        self.ratio = ratio
        self.floor = floor
    }

    /// Counts a request sent.
    public func recordRequest() {
        requests += 1
    }

    /// Takes one retry from the budget; false when the budget is spent.
    public func permitRetry() -> Bool {
        guard Double(retries) < Double(floor) + ratio * Double(requests) else { return false }
        retries += 1
        return true
    }
}
