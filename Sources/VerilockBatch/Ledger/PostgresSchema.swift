import Foundation

/// The PostgreSQL ledger's schema: its own versioned migrations (the SQLite ledger's are
/// ``LedgerSchema``), with the same tables, invariants and names, and what several hosts
/// sharing one database need besides: each run's shard, and the holder of each job and shard's
/// lock. Invariants live here (UNIQUE, NOT NULL, CHECK, triggers), not in Swift checks.
enum PostgresSchema {
    /// Each migration's identifier and statements, oldest first; a ledger records the
    /// identifiers it has in `ledger_schema`.
    static let migrations: [(identifier: String, sql: String)] = [("pg1: ledger", pg1)]

    /// The newest migration this tool knows.
    static var newest: String { migrations.last?.identifier ?? "none" }

    /// The newest of the `applied` migrations: one this tool does not know, or else the latest
    /// it knows.
    static func newestApplied(_ applied: [String]) -> String {
        let known = migrations.map(\.identifier)
        return applied.first { !known.contains($0) } ?? known.last { applied.contains($0) } ?? "none"
    }

    /// The statements of a migration, one each (the server takes one statement per query):
    /// split after each line that ends with `;` outside a `$$` function body.
    static func statements(_ sql: String) -> [String] {
        var statements: [String] = []
        var current: [Substring] = []
        var inBody = false
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            current.append(line)
            if line.components(separatedBy: "$$").count % 2 == 0 { inBody.toggle() }
            if !inBody && line.hasSuffix(";") {
                statements.append(current.joined(separator: "\n"))
                current.removeAll()
            }
        }
        let rest = current.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { statements.append(rest) }
        return statements
    }

    /// Version 1: the SQLite ledger's version 7, in PostgreSQL's words.
    private static let pg1 = """
        CREATE TABLE run (
            id BIGSERIAL PRIMARY KEY,
            job TEXT NOT NULL,
            shard TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            exit_code INTEGER,
            counts TEXT,
            host TEXT NOT NULL,
            pid BIGINT NOT NULL,
            simulated INTEGER NOT NULL DEFAULT 0 CHECK (simulated IN (0, 1)),
            backend TEXT
        );
        CREATE TABLE run_input (
            run_id BIGINT NOT NULL REFERENCES run(id),
            file_index INTEGER NOT NULL CHECK (file_index >= 0),
            path TEXT NOT NULL,
            size BIGINT,
            carried INTEGER NOT NULL DEFAULT 0 CHECK (carried IN (0, 1)),
            sha256 TEXT,
            layout TEXT,
            rows BIGINT,
            existing BIGINT,
            PRIMARY KEY (run_id, file_index)
        );
        CREATE TABLE applicant (
            external_id TEXT PRIMARY KEY CHECK (length(external_id) BETWEEN 1 AND 255),
            rowid BIGSERIAL NOT NULL UNIQUE,
            state TEXT NOT NULL CHECK (state IN ('pending', 'created', 'failed')),
            generation INTEGER NOT NULL CHECK (generation >= 1),
            fingerprint BYTEA NOT NULL,
            email TEXT,
            name TEXT,
            session_id TEXT,
            session_url TEXT CHECK (session_url <> ''),
            session_token TEXT,
            expires_at TEXT,
            expires_epoch BIGINT,
            error_status INTEGER,
            error_code TEXT,
            error_message TEXT,
            error_request_id TEXT,
            updated_epoch BIGINT NOT NULL,
            erased_epoch BIGINT,
            run_id BIGINT NOT NULL REFERENCES run(id),
            created_epoch BIGINT,
            session_status TEXT,
            decision TEXT,
            completed_at TEXT,
            synced_epoch BIGINT,
            CHECK (state <> 'created' OR session_id IS NOT NULL),
            CHECK (state <> 'created' OR session_url IS NOT NULL OR erased_epoch IS NOT NULL)
        );
        CREATE INDEX applicant_open ON applicant(created_epoch)
            WHERE state = 'created' AND (session_status IS NULL OR NOT (session_status = 'expired'
                OR (session_status = 'completed' AND decision IS NOT NULL)));
        CREATE INDEX applicant_pending ON applicant(external_id) WHERE state = 'pending';
        CREATE TABLE pending_create (
            seq BIGSERIAL PRIMARY KEY,
            external_id TEXT NOT NULL UNIQUE REFERENCES applicant(external_id),
            generation INTEGER NOT NULL CHECK (generation >= 1),
            idempotency_key TEXT NOT NULL UNIQUE,
            request_body BYTEA NOT NULL,
            record TEXT,
            attempted INTEGER NOT NULL DEFAULT 0 CHECK (attempted IN (0, 1)),
            attempted_epoch DOUBLE PRECISION,
            unsettled_runs INTEGER NOT NULL DEFAULT 0 CHECK (unsettled_runs >= 0)
        );
        CREATE TABLE session (
            external_id TEXT NOT NULL REFERENCES applicant(external_id),
            generation INTEGER NOT NULL CHECK (generation >= 1),
            id TEXT NOT NULL,
            url TEXT,
            token TEXT,
            expires_at TEXT,
            run_id BIGINT NOT NULL REFERENCES run(id),
            PRIMARY KEY (external_id, generation)
        );
        CREATE TABLE run_row (
            run_id BIGINT NOT NULL REFERENCES run(id),
            seq BIGINT NOT NULL CHECK (seq >= 0),
            file_index INTEGER NOT NULL,
            line BIGINT NOT NULL CHECK (line >= 1),
            external_id TEXT,
            outcome TEXT NOT NULL CHECK (outcome IN
                ('create', 'reissue', 'settle', 'settle-changed', 'carried', 'existing', 'invalid',
                    'duplicate', 'failed', 'expired', 'erased')),
            message TEXT,
            record TEXT,
            PRIMARY KEY (run_id, seq),
            CHECK (outcome IN ('invalid', 'duplicate') OR external_id IS NOT NULL)
        );
        CREATE UNIQUE INDEX run_row_first_occurrence ON run_row(run_id, external_id)
            WHERE outcome NOT IN ('invalid', 'duplicate');
        CREATE TABLE session_status (
            rowid BIGSERIAL PRIMARY KEY,
            session_id TEXT NOT NULL,
            external_id TEXT NOT NULL REFERENCES applicant(external_id),
            status TEXT NOT NULL,
            decision TEXT,
            seen_epoch BIGINT NOT NULL
        );
        CREATE INDEX session_status_seen ON session_status(seen_epoch);
        CREATE TABLE funnel_count (
            run_id BIGINT NOT NULL,
            status TEXT NOT NULL,
            decision TEXT NOT NULL,
            applicants BIGINT NOT NULL CHECK (applicants >= 0),
            PRIMARY KEY (run_id, status, decision)
        );
        CREATE FUNCTION funnel_count_keep() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state = 'created' THEN
                UPDATE funnel_count SET applicants = applicants - 1
                    WHERE run_id = OLD.run_id
                        AND status = \(LedgerSync.funnelKey("OLD").status)
                        AND decision = \(LedgerSync.funnelKey("OLD").decision);
                DELETE FROM funnel_count WHERE applicants = 0 AND run_id = OLD.run_id;
            END IF;
            IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.state = 'created' THEN
                INSERT INTO funnel_count (run_id, status, decision, applicants)
                    VALUES (NEW.run_id, \(LedgerSync.funnelKey("NEW").status),
                        \(LedgerSync.funnelKey("NEW").decision), 1)
                    ON CONFLICT (run_id, status, decision) DO UPDATE SET applicants = funnel_count.applicants + 1;
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER funnel_count_keep AFTER INSERT OR DELETE OR UPDATE OF state, run_id, session_status,
            decision, synced_epoch ON applicant FOR EACH ROW EXECUTE FUNCTION funnel_count_keep();
        CREATE FUNCTION run_row_applicant() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.outcome NOT IN ('invalid', 'duplicate')
                AND NOT EXISTS (SELECT 1 FROM applicant WHERE external_id = NEW.external_id) THEN
                RAISE EXCEPTION 'a run row refers to no applicant';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER run_row_applicant BEFORE INSERT ON run_row
            FOR EACH ROW EXECUTE FUNCTION run_row_applicant();
        CREATE FUNCTION pending_create_applicant() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM applicant WHERE external_id = NEW.external_id AND state = 'pending') THEN
                RAISE EXCEPTION 'a pending create refers to no pending applicant';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER pending_create_applicant BEFORE INSERT ON pending_create
            FOR EACH ROW EXECUTE FUNCTION pending_create_applicant();
        CREATE TABLE ledger_holder (
            job TEXT NOT NULL,
            shard TEXT NOT NULL,
            host TEXT NOT NULL,
            pid BIGINT NOT NULL,
            backend_pid INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            PRIMARY KEY (job, shard)
        );
        """
}
