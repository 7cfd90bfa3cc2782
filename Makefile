# The two commands of README.md: `make run` and `make test`.
CARGO ?= cargo
SHARED ?= ../shared

.PHONY: run test build check-layers lint fmt bench clean openapi-validator

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

## Throughput and latency of authenticated requests (release build, production argon2 cost).
bench:
	$(CARGO) build --release -p idm-server -p idm-blackbox-tests --bin idm-server --bin bench
	IDM_SERVER_BIN=$$(pwd)/target/release/idm-server ./target/release/bench
