# Shared by the benchmark scripts (sourced, not run): the release build, a work folder removed on
# exit with the simulators started in it, and helpers to make inputs and ledgers and to measure.
PROFILE=7f3c2a10-5d4e-4b8a-9c61-2e0f8d9b3a47
KEY=qi_test_simulator
swift build -c release --product verilock-batch >/dev/null
BIN=$PWD/.build/release/verilock-batch
WORK=$(mktemp -d)
SIMS=()
cleanup() { for pid in "${SIMS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

# Starts `simulate` with the given flags; sets URL.
simulator() {
    local out="$WORK/sim-$RANDOM.out"
    "$BIN" simulate --port 0 "$@" > "$out" 2>/dev/null &
    SIMS+=($!)
    for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
    URL=$(head -1 "$out")
}

# The ledger's size with its WAL, in bytes.
ledger_bytes() { echo $(( $(stat -c %s "$1") + $( [ -f "$1-wal" ] && stat -c %s "$1-wal" || echo 0) )); }

# Runs a command under GNU time; sets SECONDS_TAKEN and PEAK_MB.
measure() {
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@"
    read -r SECONDS_TAKEN PEAK_KB < "$WORK/time.txt"
    PEAK_MB=$((PEAK_KB / 1024))
}

rows_csv() { # N FILE
    python3 - "$1" > "$2" <<'PY'
import sys
w = sys.stdout.write
w("external_id,applicant_email,first_name,last_name,plan\n")
for i in range(int(sys.argv[1])):
    w(f"u-{i},user{i}@example.com,First{i},Last{i},pro\n")
PY
}

# A ledger holding a created session for u-0 .. u-(N-1), made by the tool, then filled by SQL.
seeded_ledger() { # N LEDGER
    rows_csv 1 "$WORK/one.csv"
    VERILOCK_API_KEY=$KEY "$BIN" run --input "$WORK/one.csv" --profile-id $PROFILE --base-url "$URL" \
        --ledger "$2" --output "$WORK/one.out.csv" --rejects "$WORK/one.rej.csv" --quiet 2>/dev/null
    sqlite3 "$2" "INSERT OR IGNORE INTO applicant (external_id, state, generation, fingerprint, email,
        session_id, session_url, session_token, expires_at, expires_epoch, updated_epoch, run_id)
        SELECT 'u-' || value, 'created', 1, 'f', 'user' || value || '@example.com', 'ses_' || value,
            'https://verilock.io/verify/tok_' || value, 'tok_' || value, '2099-01-01T00:00:00Z', 4070908800,
            1767225600, 1 FROM generate_series(0, $1 - 1);"
}

# Appends RESULTS (table rows) to FILE under a heading naming the machine and the date.
append_results() { # FILE
    {
        echo
        echo "### $(date -u +%Y-%m-%d) on $(uname -n): $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(swift --version 2>/dev/null | head -1 | sed 's/.*Swift version \([0-9.]*\).*/Swift \1/'), release build"
        echo
        echo "| benchmark | verilock-batch | reference (same run) | ratio |"
        echo "| --- | --- | --- | --- |"
        printf '%s\n' "${RESULTS[@]}"
    } >> "$1"
    echo "appended to $1"
}
