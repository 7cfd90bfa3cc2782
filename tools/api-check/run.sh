#!/usr/bin/env bash
# `make api-check`: run the server (IDM_SERVER_BIN, a release build) on a fresh SQLite database,
# test it as an API consumer would with Schemathesis (every check, every phase) and check the
# Swagger UI page in a headless Chromium. Fails on any finding.
#
# Settings (environment):
#   IDM_SERVER_BIN          the server binary            (target/release/idm-server)
#   API_CHECK_VENV          virtualenv with Schemathesis (target/api-check/venv)
#   API_CHECK_MAX_EXAMPLES  test cases per operation in fuzzing (20)
#   API_CHECK_MAX_TIME      wall-clock budget of the Schemathesis run, seconds (210)
#   API_CHECK_SEED          a seed to replay a run (random otherwise; the run prints it)
#   API_CHECK_ARGS          more `st run` arguments (e.g. `--exclude-tag scim`)
#   CHROMIUM                the Chromium binary (/usr/bin/chromium)
#   CI=true                 a missing Chromium fails instead of skipping the page check
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${IDM_SERVER_BIN:-target/release/idm-server}
VENV=${API_CHECK_VENV:-target/api-check/venv}
OUT=target/api-check
MAX_EXAMPLES=${API_CHECK_MAX_EXAMPLES:-20}
MAX_TIME=${API_CHECK_MAX_TIME:-210}
CI=${CI:-}
mkdir -p "$OUT"

[ -x "$BIN" ] || { echo "api-check: no server binary at $BIN" >&2; exit 1; }
[ -x "$VENV/bin/st" ] || { echo "api-check: no Schemathesis in $VENV (make api-check installs it)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/idm-api-check.XXXXXX")
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PASSWORD=$(python3 -c 'import secrets; print("Ac-" + secrets.token_urlsafe(18))')
BASE="http://127.0.0.1:$PORT"
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# A copy of its own: a cleanup elsewhere that stops servers by name cannot end this run.
cp "$BIN" "$WORK/idm-api-check-server"
# Cheap hashing: the run authenticates thousands of times (the cache absorbs most of them).
# The server reads every IDM_* variable as a setting, so IDM_SERVER_BIN must not reach it.
env -u IDM_SERVER_BIN \
IDM_DATABASE_URL="sqlite://$WORK/db.sqlite3" \
IDM_LISTEN="127.0.0.1:$PORT" \
IDM_BOOTSTRAP_ADMIN_LOGIN=admin \
IDM_BOOTSTRAP_ADMIN_PASSWORD="$PASSWORD" \
IDM_ARGON2_MEMORY_KIB=64 \
IDM_ARGON2_ITERATIONS=1 \
IDM_LOG_FORMAT=text \
    "$WORK/idm-api-check-server" serve >"$OUT/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 150); do
    if curl -fsS "$BASE/health/ready" >/dev/null 2>&1; then break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "api-check: the server did not start:" >&2; tail -20 "$OUT/server.log" >&2; exit 1; }
    sleep 0.2
done
curl -fsS "$BASE/health/ready" >/dev/null

# The caller's own record, which hooks.py keeps the run from changing.
AUTH="default/admin:$PASSWORD"
CALLER=$(curl -fsS -u "$AUTH" "$BASE/nevisidm/api/principal/v1/me" |
    python3 -c 'import json, sys; me = json.load(sys.stdin); print(me["clientExtId"] + "/" + me["extId"])')

SEED_ARGS=()
if [ -n "${API_CHECK_SEED:-}" ]; then SEED_ARGS=(--seed "$API_CHECK_SEED"); fi
# shellcheck disable=SC2206  # API_CHECK_ARGS is a list of words on purpose.
EXTRA_ARGS=(${API_CHECK_ARGS:-})

ST=("$VENV/bin/st" --config-file tools/api-check/schemathesis.toml run
    "$BASE/nevisidm/api/openapi.json"
    --checks all
    --phases examples,coverage,fuzzing,stateful
    --auth "$AUTH"
    --max-examples "$MAX_EXAMPLES"
    --max-time "$MAX_TIME"
    --request-timeout 10
    --generation-database none
    --no-color
    --report junit --report-dir "$OUT/reports"
    "${SEED_ARGS[@]}" "${EXTRA_ARGS[@]}")
echo "api-check: $(${VENV}/bin/st --version) against $BIN on SQLite ($BASE), caller $CALLER"
echo "api-check: $(printf '%q ' "${ST[@]}" | sed "s/$PASSWORD/<password>/g")"
status=0
# Hypothesis keeps its caches under target/, not in the source tree.
API_CHECK_CALLER="$CALLER" SCHEMATHESIS_HOOKS=tools/api-check/hooks.py \
HYPOTHESIS_STORAGE_DIRECTORY="$OUT/hypothesis" "${ST[@]}" 2>&1 |
    sed "s/$PASSWORD/<password>/g" | tee "$OUT/schemathesis.log" || status=$?
cases=$(grep -E '^ *[0-9]+ generated' "$OUT/schemathesis.log" | tail -1 | sed 's/^ *//')
echo "api-check: Schemathesis test cases: ${cases:-?} (exit $status)"

# The Swagger UI page in a real Chromium.
page_status=0
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [ -z "$CHROMIUM" ] || [ ! -x "$CHROMIUM" ]; then
    if [ "$CI" = true ]; then
        echo "api-check: FAILED: no Chromium for the Swagger UI check (apt-get install chromium)" >&2
        page_status=1
    else
        echo "api-check: SKIPPED the Swagger UI check: no Chromium (apt-get install chromium)"
    fi
elif [ ! -d "$OUT/node/node_modules/playwright-core" ]; then
    if [ "$CI" = true ]; then
        echo "api-check: FAILED: playwright-core is not installed under $OUT/node" >&2
        page_status=1
    else
        echo "api-check: SKIPPED the Swagger UI check: playwright-core is not installed under $OUT/node"
    fi
else
    CHROMIUM="$CHROMIUM" API_CHECK_NODE_DIR="$PWD/$OUT/node" \
        node tools/api-check/swagger-ui.cjs "$BASE" "$AUTH" 2>&1 | sed "s/$PASSWORD/<password>/g" ||
        page_status=$?
fi

if [ "$status" -ne 0 ] || [ "$page_status" -ne 0 ]; then
    echo "api-check: FAILED (Schemathesis exit $status, Swagger UI check exit $page_status); server log: $OUT/server.log" >&2
    exit 1
fi
echo "api-check: OK"
