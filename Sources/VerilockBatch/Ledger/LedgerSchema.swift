import GRDB

/// The ledger's schema: every migration, versioned, in one place. Invariants live here
/// (UNIQUE, NOT NULL, CHECK), not in Swift checks.
enum LedgerSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE run (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        job TEXT NOT NULL,
                        started_at TEXT NOT NULL,
                        finished_at TEXT,
                        exit_code INTEGER,
                        counts TEXT,
                        host TEXT NOT NULL,
                        pid INTEGER NOT NULL,
                        simulated INTEGER NOT NULL DEFAULT 0 CHECK (simulated IN (0, 1))
                    );
                    CREATE TABLE run_input (
                        run_id INTEGER NOT NULL REFERENCES run(id),
                        file_index INTEGER NOT NULL CHECK (file_index >= 0),
                        path TEXT NOT NULL,
                        size INTEGER,
                        PRIMARY KEY (run_id, file_index)
                    ) WITHOUT ROWID;
                    CREATE TABLE applicant (
                        external_id TEXT PRIMARY KEY NOT NULL CHECK (length(external_id) BETWEEN 1 AND 255),
                        state TEXT NOT NULL CHECK (state IN ('pending', 'created', 'failed')),
                        generation INTEGER NOT NULL CHECK (generation >= 1),
                        idempotency_key TEXT NOT NULL,
                        fingerprint TEXT NOT NULL,
                        request_body BLOB,
                        session_id TEXT,
                        session_url TEXT,
                        session_token TEXT,
                        expires_at TEXT,
                        expires_epoch INTEGER,
                        error_status INTEGER,
                        error_code TEXT,
                        error_message TEXT,
                        error_request_id TEXT,
                        created_at TEXT NOT NULL,
                        updated_at TEXT NOT NULL,
                        run_id INTEGER NOT NULL REFERENCES run(id),
                        CHECK (state <> 'created' OR (session_id IS NOT NULL AND session_url IS NOT NULL)),
                        CHECK (state <> 'pending' OR request_body IS NOT NULL)
                    );
                    CREATE INDEX applicant_pending ON applicant(state) WHERE state = 'pending';
                    CREATE TABLE session (
                        id TEXT PRIMARY KEY NOT NULL,
                        external_id TEXT NOT NULL REFERENCES applicant(external_id),
                        generation INTEGER NOT NULL CHECK (generation >= 1),
                        url TEXT NOT NULL,
                        token TEXT,
                        expires_at TEXT,
                        created_at TEXT NOT NULL,
                        run_id INTEGER NOT NULL REFERENCES run(id),
                        UNIQUE (external_id, generation)
                    );
                    CREATE TABLE run_row (
                        run_id INTEGER NOT NULL REFERENCES run(id),
                        seq INTEGER NOT NULL CHECK (seq >= 0),
                        file_index INTEGER NOT NULL,
                        line INTEGER NOT NULL CHECK (line >= 1),
                        external_id TEXT,
                        outcome TEXT NOT NULL CHECK (outcome IN
                            ('create', 'reissue', 'existing', 'invalid', 'duplicate', 'failed', 'expired')),
                        message TEXT,
                        applicant_email TEXT,
                        applicant_name TEXT,
                        PRIMARY KEY (run_id, seq),
                        CHECK (outcome IN ('invalid', 'duplicate') OR external_id IS NOT NULL)
                    ) WITHOUT ROWID;
                    CREATE UNIQUE INDEX run_row_first_occurrence ON run_row(run_id, external_id)
                        WHERE outcome NOT IN ('invalid', 'duplicate');
                    """
            )
        }
        migrator.registerMigration("v2: attempted") { db in
            try db.execute(
                sql: """
                    ALTER TABLE applicant ADD COLUMN attempted INTEGER NOT NULL DEFAULT 0 CHECK (attempted IN (0, 1))
                    """
            )
        }
        migrator.registerMigration("v3: input record") { db in
            try db.execute(sql: "ALTER TABLE run_row ADD COLUMN record TEXT")
        }
        migrator.registerMigration("v4: settlement") { db in
            try db.execute(
                sql: """
                    ALTER TABLE applicant ADD COLUMN attempted_epoch REAL;
                    ALTER TABLE applicant ADD COLUMN unsettled_runs INTEGER NOT NULL DEFAULT 0
                        CHECK (unsettled_runs >= 0);
                    ALTER TABLE run_input ADD COLUMN carried INTEGER NOT NULL DEFAULT 0 CHECK (carried IN (0, 1));
                    CREATE UNIQUE INDEX applicant_idempotency_key ON applicant(idempotency_key);
                    CREATE TRIGGER applicant_session_url_insert BEFORE INSERT ON applicant
                        WHEN NEW.session_url = '' BEGIN SELECT RAISE(ABORT, 'empty session_url'); END;
                    CREATE TRIGGER applicant_session_url_update BEFORE UPDATE OF session_url ON applicant
                        WHEN NEW.session_url = '' BEGIN SELECT RAISE(ABORT, 'empty session_url'); END;
                    CREATE TRIGGER session_url_insert BEFORE INSERT ON session
                        WHEN NEW.url = '' BEGIN SELECT RAISE(ABORT, 'empty session url'); END;
                    CREATE TABLE run_row_v4 (
                        run_id INTEGER NOT NULL REFERENCES run(id),
                        seq INTEGER NOT NULL CHECK (seq >= 0),
                        file_index INTEGER NOT NULL,
                        line INTEGER NOT NULL CHECK (line >= 1),
                        external_id TEXT,
                        outcome TEXT NOT NULL CHECK (outcome IN
                            ('create', 'reissue', 'settle', 'settle-changed', 'carried', 'existing', 'invalid',
                                'duplicate', 'failed', 'expired')),
                        message TEXT,
                        applicant_email TEXT,
                        applicant_name TEXT,
                        record TEXT,
                        PRIMARY KEY (run_id, seq),
                        CHECK (outcome IN ('invalid', 'duplicate') OR external_id IS NOT NULL)
                    ) WITHOUT ROWID;
                    INSERT INTO run_row_v4 SELECT run_id, seq, file_index, line, external_id, outcome, message,
                        applicant_email, applicant_name, record FROM run_row;
                    DROP TABLE run_row;
                    ALTER TABLE run_row_v4 RENAME TO run_row;
                    CREATE UNIQUE INDEX run_row_first_occurrence ON run_row(run_id, external_id)
                        WHERE outcome NOT IN ('invalid', 'duplicate');
                    CREATE TRIGGER run_row_applicant BEFORE INSERT ON run_row
                        WHEN NEW.outcome NOT IN ('invalid', 'duplicate')
                            AND NOT EXISTS (SELECT 1 FROM applicant WHERE external_id = NEW.external_id)
                        BEGIN SELECT RAISE(ABORT, 'a run row refers to no applicant'); END;
                    """
            )
        }
        migrator.registerMigration("v5: compact") { db in
            try db.execute(sql: v5)
        }
        migrator.registerMigration("v6: follow-through") { db in
            try db.execute(sql: v6)
        }
        migrator.registerMigration("v7: funnel counts") { db in
            try db.execute(sql: v7)
        }
        return migrator
    }

    /// Version 7, funnel counts: how many applicants with a session stand at each stage, by the
    /// run that last touched them, kept by triggers on every change to `applicant`, so the
    /// funnel a run reports and `status` shows costs a few rows to read instead of a scan of
    /// every applicant. `ledger check` recounts it.
    private static var v7: String {
        let new = LedgerSync.funnelKey("NEW")
        let old = LedgerSync.funnelKey("OLD")
        let add = """
            INSERT INTO funnel_count (run_id, status, decision, applicants)
                SELECT NEW.run_id, \(new.status), \(new.decision), 1 WHERE NEW.state = 'created'
                ON CONFLICT DO UPDATE SET applicants = applicants + 1;
            """
        let remove = """
            UPDATE funnel_count SET applicants = applicants - 1
                WHERE OLD.state = 'created' AND run_id = OLD.run_id AND status = \(old.status)
                    AND decision = \(old.decision);
            DELETE FROM funnel_count
                WHERE OLD.state = 'created' AND run_id = OLD.run_id AND status = \(old.status)
                    AND decision = \(old.decision) AND applicants = 0;
            """
        return """
            CREATE TABLE funnel_count (
                run_id INTEGER NOT NULL,
                status TEXT NOT NULL,
                decision TEXT NOT NULL,
                applicants INTEGER NOT NULL CHECK (applicants >= 0),
                PRIMARY KEY (run_id, status, decision)
            ) WITHOUT ROWID;
            INSERT INTO funnel_count (run_id, status, decision, applicants) \(LedgerSync.funnelRecount);
            CREATE TRIGGER funnel_count_insert AFTER INSERT ON applicant WHEN NEW.state = 'created'
            BEGIN \(add) END;
            CREATE TRIGGER funnel_count_delete AFTER DELETE ON applicant WHEN OLD.state = 'created'
            BEGIN \(remove) END;
            CREATE TRIGGER funnel_count_update
                AFTER UPDATE OF state, run_id, session_status, decision, synced_epoch ON applicant
                WHEN (OLD.state = 'created' OR NEW.state = 'created') AND (OLD.state IS NOT NEW.state
                    OR OLD.run_id IS NOT NEW.run_id OR \(old.status) IS NOT \(new.status)
                    OR \(old.decision) IS NOT \(new.decision))
            BEGIN \(remove) \(add) END;
            """
    }

    /// Version 6, follow-through: what the API last said of each applicant's current session
    /// (`session_status`, `decision`, `completed_at`, and when `sync` last saw it), when that
    /// session was created (`created_epoch`; before v6 the time it was recorded), and every
    /// status change `sync` saw (`session_status`).
    private static let v6 = """
        ALTER TABLE applicant ADD COLUMN created_epoch INTEGER;
        ALTER TABLE applicant ADD COLUMN session_status TEXT;
        ALTER TABLE applicant ADD COLUMN decision TEXT;
        ALTER TABLE applicant ADD COLUMN completed_at TEXT;
        ALTER TABLE applicant ADD COLUMN synced_epoch INTEGER;
        UPDATE applicant SET created_epoch = updated_epoch WHERE state = 'created';
        CREATE INDEX applicant_open ON applicant(created_epoch)
            WHERE state = 'created' AND (session_status IS NULL OR NOT (session_status = 'expired'
                OR (session_status = 'completed' AND decision IS NOT NULL)));
        CREATE TABLE session_status (
            session_id TEXT NOT NULL,
            external_id TEXT NOT NULL REFERENCES applicant(external_id),
            status TEXT NOT NULL,
            decision TEXT,
            seen_epoch INTEGER NOT NULL
        );
        CREATE INDEX session_status_seen ON session_status(seen_epoch);
        """

    /// Version 5, the ledger for the long haul: a pending create's key, body and attempt live in
    /// `pending_create` only while it is pending; an applicant holds its current session, e-mail
    /// and name (erased by retention, `erased_epoch`); `session` keeps replaced sessions only;
    /// run rows no longer copy e-mail and name; an input file records its SHA-256 and, for CSV,
    /// its header once (`layout`), so a run row's record holds values only.
    private static let v5 = """
        CREATE TABLE applicant_v5 (
            external_id TEXT PRIMARY KEY NOT NULL CHECK (length(external_id) BETWEEN 1 AND 255),
            state TEXT NOT NULL CHECK (state IN ('pending', 'created', 'failed')),
            generation INTEGER NOT NULL CHECK (generation >= 1),
            fingerprint BLOB NOT NULL,
            email TEXT,
            name TEXT,
            session_id TEXT,
            session_url TEXT CHECK (session_url <> ''),
            session_token TEXT,
            expires_at TEXT,
            expires_epoch INTEGER,
            error_status INTEGER,
            error_code TEXT,
            error_message TEXT,
            error_request_id TEXT,
            updated_epoch INTEGER NOT NULL,
            erased_epoch INTEGER,
            run_id INTEGER NOT NULL REFERENCES run(id),
            CHECK (state <> 'created' OR session_id IS NOT NULL),
            CHECK (state <> 'created' OR session_url IS NOT NULL OR erased_epoch IS NOT NULL)
        );
        WITH latest AS (
            SELECT external_id, applicant_email, applicant_name,
                row_number() OVER (PARTITION BY external_id ORDER BY run_id DESC) AS n
            FROM run_row WHERE outcome NOT IN ('invalid', 'duplicate'))
        INSERT INTO applicant_v5 (rowid, external_id, state, generation, fingerprint, email, name, session_id,
            session_url, session_token, expires_at, expires_epoch, error_status, error_code, error_message,
            error_request_id, updated_epoch, run_id)
        SELECT a.rowid, a.external_id, a.state, a.generation, a.fingerprint, l.applicant_email, l.applicant_name,
            a.session_id, a.session_url, a.session_token, a.expires_at, a.expires_epoch, a.error_status,
            a.error_code, a.error_message, a.error_request_id, coalesce(CAST(strftime('%s', a.updated_at) AS INTEGER), 0),
            a.run_id
        FROM applicant a LEFT JOIN latest l ON l.external_id = a.external_id AND l.n = 1;
        CREATE TABLE pending_create (
            seq INTEGER PRIMARY KEY,
            external_id TEXT NOT NULL UNIQUE REFERENCES applicant(external_id),
            generation INTEGER NOT NULL CHECK (generation >= 1),
            idempotency_key TEXT NOT NULL UNIQUE,
            request_body BLOB NOT NULL,
            record TEXT,
            attempted INTEGER NOT NULL DEFAULT 0 CHECK (attempted IN (0, 1)),
            attempted_epoch REAL,
            unsettled_runs INTEGER NOT NULL DEFAULT 0 CHECK (unsettled_runs >= 0)
        );
        INSERT INTO pending_create (external_id, generation, idempotency_key, request_body, attempted,
            attempted_epoch, unsettled_runs)
        SELECT external_id, generation, idempotency_key, request_body, attempted, attempted_epoch, unsettled_runs
        FROM applicant WHERE state = 'pending' ORDER BY rowid;
        CREATE TABLE session_v5 (
            external_id TEXT NOT NULL REFERENCES applicant(external_id),
            generation INTEGER NOT NULL CHECK (generation >= 1),
            id TEXT NOT NULL,
            url TEXT,
            token TEXT,
            expires_at TEXT,
            run_id INTEGER NOT NULL REFERENCES run(id),
            PRIMARY KEY (external_id, generation)
        ) WITHOUT ROWID;
        INSERT INTO session_v5 SELECT s.external_id, s.generation, s.id, s.url, s.token, s.expires_at, s.run_id
        FROM session s JOIN applicant a ON a.external_id = s.external_id
        WHERE NOT (a.state = 'created' AND a.generation = s.generation);
        CREATE TABLE run_row_v5 (
            run_id INTEGER NOT NULL REFERENCES run(id),
            seq INTEGER NOT NULL CHECK (seq >= 0),
            file_index INTEGER NOT NULL,
            line INTEGER NOT NULL CHECK (line >= 1),
            external_id TEXT,
            outcome TEXT NOT NULL CHECK (outcome IN
                ('create', 'reissue', 'settle', 'settle-changed', 'carried', 'existing', 'invalid',
                    'duplicate', 'failed', 'expired', 'erased')),
            message TEXT,
            record TEXT,
            PRIMARY KEY (run_id, seq),
            CHECK (outcome IN ('invalid', 'duplicate') OR external_id IS NOT NULL)
        ) WITHOUT ROWID;
        INSERT INTO run_row_v5 SELECT run_id, seq, file_index, line, external_id, outcome, message, record FROM run_row;
        DROP TABLE run_row;
        DROP TABLE session;
        DROP TABLE applicant;
        ALTER TABLE applicant_v5 RENAME TO applicant;
        ALTER TABLE session_v5 RENAME TO session;
        ALTER TABLE run_row_v5 RENAME TO run_row;
        CREATE UNIQUE INDEX run_row_first_occurrence ON run_row(run_id, external_id)
            WHERE outcome NOT IN ('invalid', 'duplicate');
        CREATE TRIGGER run_row_applicant BEFORE INSERT ON run_row
            WHEN NEW.outcome NOT IN ('invalid', 'duplicate')
                AND NOT EXISTS (SELECT 1 FROM applicant WHERE external_id = NEW.external_id)
            BEGIN SELECT RAISE(ABORT, 'a run row refers to no applicant'); END;
        CREATE TRIGGER pending_create_applicant BEFORE INSERT ON pending_create
            WHEN NOT EXISTS (SELECT 1 FROM applicant WHERE external_id = NEW.external_id AND state = 'pending')
            BEGIN SELECT RAISE(ABORT, 'a pending create refers to no pending applicant'); END;
        ALTER TABLE run_input ADD COLUMN sha256 TEXT;
        ALTER TABLE run_input ADD COLUMN layout TEXT;
        ALTER TABLE run_input ADD COLUMN rows INTEGER;
        ALTER TABLE run_input ADD COLUMN existing INTEGER;
        """
}
