/// Plans the rows of one run, in input order: a pure function of the rows and what the ledger
/// knows of them (``ApplicantEntry``), with no database in sight.
///
/// It rejects a row whose external_id occurred earlier in the run (the reader finds those, with
/// ``SeenIDs``: the first occurrence wins; a row that failed validation claims nothing), applies
/// the rerun rules (``RowPlan``), and builds the intent of every row to send.
public struct RunPlanner {
    let template: SessionTemplate
    let policy: RerunPolicy
    let nowEpoch: Int64
    /// Runs that died (or could not write their files) before their output was written.
    let undelivered: Set<Int64>
    /// The input paths by file index, for messages.
    let paths: [String]
    /// Whether the output passes input columns through (every row then keeps its record).
    let keepsEveryRecord: Bool

    /// A planner for one run.
    public init(
        template: SessionTemplate,
        policy: RerunPolicy,
        nowEpoch: Int64,
        undelivered: Set<Int64>,
        paths: [String],
        keepsEveryRecord: Bool
    ) {
        self.template = template
        self.policy = policy
        self.nowEpoch = nowEpoch
        self.undelivered = undelivered
        self.paths = paths
        self.keepsEveryRecord = keepsEveryRecord
    }

    /// Plans one row.
    /// - Parameters:
    ///   - mapped: what validation made of the row.
    ///   - firstSeen: where the row's external_id first occurred in this run, if earlier.
    ///   - entry: the ledger's entry for the row's external_id, if any.
    ///   - record: the row's input record, computed only when the plan keeps it.
    public func plan(
        seq: Int64,
        fileIndex: Int,
        line: Int,
        mapped: Result<ApplicantRow, RowRejection>,
        firstSeen first: RowPlace? = nil,
        entry known: ApplicantEntry?,
        record: () -> String?
    ) -> PlannedRow {
        var planned = PlannedRow(seq: seq, fileIndex: fileIndex, line: line, outcome: .invalid)
        planned.keepsRecordInRun = keepsEveryRecord
        let row: ApplicantRow
        switch mapped {
        case .failure(let rejection):
            planned.externalID = rejection.externalID
            planned.message = rejection.message
            planned.record = record()
            return planned
        case .success(let mapped):
            row = mapped
        }
        planned.externalID = row.externalID
        if let first {
            planned.outcome = .duplicate
            let place =
                paths.indices.contains(first.fileIndex) ? "\(paths[first.fileIndex]):\(first.line)" : "an earlier line"
            planned.message = "duplicate external_id \(RowValidation.quoted(row.externalID)): first seen at \(place)"
            planned.record = record()
            return planned
        }
        planned.email = row.email
        planned.name = row.name
        // The request body is built only for rows that need it: its fingerprint for a row that
        // failed before (to see whether its data changed), the body itself for a row to send.
        // Existing rows, nearly all of a nightly rerun, need neither.
        let template = self.template
        let plan = RowPlan.plan(
            entry: known,
            fingerprint: { SHA256.hexDigest(template.requestBody(for: row)) },
            nowEpoch: nowEpoch,
            policy: policy
        )
        var generation: Int?
        switch plan {
        case .create(let next):
            planned.outcome = .create
            generation = next
        case .settle:
            // Settled with the body it was first sent with; the new data counts only afterwards.
            let changed = SHA256.hexDigest(template.requestBody(for: row)) != known?.fingerprint
            planned.outcome = changed ? .settleChanged : .settle
            if changed {
                planned.message =
                    "the row's data changed while its first create was in doubt: that create is settled with the "
                    + "data first sent, and the session it made is kept"
            }
            planned.claim = .pending
        case .reissue(let next):
            planned.outcome = .reissue
            generation = next
        case .existing where known.map { undelivered.contains($0.runID) } == true:
            // Made by a run that died before writing its output: nobody has this link yet.
            planned.outcome = .settle
            planned.claim = .delivery
        case .existing:
            planned.outcome = .existing
            planned.session = known?.session
        case .expired:
            planned.outcome = .expired
            planned.message = "the link has expired and policy.reissue_expired is off"
        case .erased:
            planned.outcome = .erased
            planned.message =
                "the applicant's session ended and its personal data was erased under retention.personal_data: "
                + "it is never sent again"
        case .failedBefore(let failure):
            planned.outcome = .failed
            planned.message =
                "failed before, data unchanged (\(failure.summary)): fix the row or set policy.retry_failed"
        }
        if let generation {
            let body = template.requestBody(for: row)
            planned.intent = PlannedRow.Intent(
                generation: generation,
                idempotencyKey: template.idempotencyKey(externalID: row.externalID, generation: generation),
                fingerprint: SHA256.hexDigest(body),
                body: body,
                replacesSession: known?.session != nil || known?.state == .created
            )
        }
        // An erased applicant's row keeps nothing of the input: retention took it out of the ledger.
        if planned.outcome != .erased && (planned.outcome != .existing || keepsEveryRecord) {
            planned.record = record()
        }
        return planned
    }
}
