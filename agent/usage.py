"""Per-session cost counters: tokens in and out, characters synthesised, audio seconds transcribed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from livekit.agents.metrics import LLMMetrics, TTSMetrics


@dataclass(slots=True)
class ProviderUsage:
    """What one provider was used for in a session."""

    tokens_in: int = 0
    tokens_out: int = 0
    tts_characters: int = 0
    stt_audio_s: float = 0.0

    def __bool__(self) -> bool:
        return bool(self.tokens_in or self.tokens_out or self.tts_characters or self.stt_audio_s)


class UsageMeter:
    """Counts a session's provider usage by provider name, from livekit's metrics events and
    from the transcriber; `take()` hands over what was counted since the last take."""

    def __init__(self) -> None:
        self._pending: dict[str, ProviderUsage] = {}
        self.totals: dict[str, ProviderUsage] = {}

    def _add(self, provider: str, **counts: Any) -> None:
        for book in (self._pending, self.totals):
            usage = book.setdefault(provider, ProviderUsage())
            for name, value in counts.items():
                setattr(usage, name, getattr(usage, name) + value)

    def add_llm(self, provider: str, tokens_in: int, tokens_out: int) -> None:
        self._add(provider, tokens_in=tokens_in, tokens_out=tokens_out)

    def add_tts(self, provider: str, characters: int) -> None:
        self._add(provider, tts_characters=characters)

    def add_stt(self, provider: str, audio_s: float) -> None:
        self._add(provider, stt_audio_s=audio_s)

    def watch(self, emitter: Any) -> None:
        """Counts the metrics an llm.LLM or tts.TTS (or their fallback adapters) report."""
        emitter.on("metrics_collected", self.on_metrics)

    def on_metrics(self, metrics: Any) -> None:
        provider = (metrics.metadata.model_provider if metrics.metadata else None) or metrics.label
        if isinstance(metrics, LLMMetrics):
            if metrics.prompt_tokens or metrics.completion_tokens:
                self.add_llm(provider, metrics.prompt_tokens, metrics.completion_tokens)
        elif isinstance(metrics, TTSMetrics):
            self.add_tts(provider, metrics.characters_count)

    def take(self) -> dict[str, ProviderUsage]:
        pending, self._pending = self._pending, {}
        return {p: u for p, u in pending.items() if u}
