# The two commands of README.md: `make run` and `make test`.
CARGO ?= cargo
SHARED ?= ../shared

.PHONY: run test build check-layers lint fmt bench clean openapi-validator api-check api-check-tools

## Start the service on the embedded SQLite default (./data/idm.sqlite3).
run:
	$(CARGO) run -p idm-server -- serve

build:
	$(CARGO) build --workspace --all-targets

## Every test: layer check, unit tests of each crate, the storage contract suite on SQLite and
## on a throwaway PostgreSQL, and the black-box HTTP tests against the real binary.
test: check-layers openapi-validator
	$(CARGO) build -p idm-server
	$(CARGO) test --workspace --all-targets --no-fail-fast
	$(CARGO) test --workspace --doc

## The validator the OpenAPI test runs (idm-http `tests::openapi`); with CI=true it is required.
openapi-validator:
	@python3 -c 'import openapi_spec_validator' 2>/dev/null || \
	python3 -m pip install --quiet --disable-pip-version-check 'openapi-spec-validator>=0.7,<0.10' || \
	echo "openapi-spec-validator could not be installed: the OpenAPI validation test skips (and fails under CI=true)"

check-layers:
	@if [ -f $(SHARED)/tools/check-layers.py ]; then python3 $(SHARED)/tools/check-layers.py; \
	else echo "check-layers: $(SHARED)/tools/check-layers.py not found, skipped"; fi

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean

## Every performance figure with its target and pass/fail, on SQLite and PostgreSQL, against a
## release build at the production argon2 cost; the same as JSON in target/bench.json.
bench:
	$(CARGO) build --release -p idm-server -p idm-blackbox-tests --bin idm-server --bin bench
	IDM_SERVER_BIN=$$(pwd)/target/release/idm-server ./target/release/bench

## The API as a consumer sees it: Schemathesis (every check, every phase, pinned) against a
## release build on SQLite, and the Swagger UI page in a headless Chromium; fails on any finding.
## Bounded by API_CHECK_MAX_EXAMPLES (20 per operation) and API_CHECK_MAX_TIME (210 s).
## SCIM (SPEC §14) joins once its schema states what its endpoints enforce: drop the exclusion.
API_CHECK_DIR := target/api-check
API_CHECK_SCHEMATHESIS := 4.32.5
API_CHECK_PLAYWRIGHT := 1.65.1
API_CHECK_ARGS ?= --exclude-tag scim
api-check: api-check-tools
	$(CARGO) build --release -p idm-server
	IDM_SERVER_BIN=target/release/idm-server API_CHECK_VENV=$(API_CHECK_DIR)/venv \
	API_CHECK_ARGS="$(API_CHECK_ARGS)" tools/api-check/run.sh

## Schemathesis in a virtualenv, playwright-core (drives the system Chromium) under target/.
api-check-tools:
	@$(API_CHECK_DIR)/venv/bin/st --version 2>/dev/null | grep -qx 'st, version $(API_CHECK_SCHEMATHESIS)' || { \
	  python3 -m venv $(API_CHECK_DIR)/venv && \
	  $(API_CHECK_DIR)/venv/bin/pip install --quiet --disable-pip-version-check \
	    'schemathesis==$(API_CHECK_SCHEMATHESIS)'; }
	@test -f $(API_CHECK_DIR)/node/node_modules/playwright-core/package.json && \
	  grep -q '"version": "$(API_CHECK_PLAYWRIGHT)"' $(API_CHECK_DIR)/node/node_modules/playwright-core/package.json || \
	  npm install --prefix $(API_CHECK_DIR)/node --no-save --no-audit --no-fund --loglevel=error \
	    playwright-core@$(API_CHECK_PLAYWRIGHT) || \
	  echo "playwright-core could not be installed: the Swagger UI check skips (and fails under CI=true)"
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1; } || \
	  echo "chromium could not be installed: the Swagger UI check skips (and fails under CI=true)"
