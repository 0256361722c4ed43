"""Picks the evaluator a deployment uses: the LLM one when an endpoint is configured, else offline."""

from __future__ import annotations

from greenroom.settings import Settings
from scoring.base import Evaluator
from scoring.llm import LLMEvaluator
from scoring.offline import OfflineEvaluator


def make_evaluator(settings: Settings) -> Evaluator:
    """The LLM evaluator (offline fallback) when `llm_base_url` is set; the offline one otherwise."""
    offline = OfflineEvaluator()
    if not settings.llm_base_url:
        return offline
    return LLMEvaluator(
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
        model=settings.llm_model,
        timeout_s=settings.llm_timeout_s,
        fallback=offline,
    )


async def close_evaluator(evaluator: Evaluator) -> None:
    """Releases what the evaluator holds (the LLM one's HTTP client); a no-op for the others."""
    if isinstance(evaluator, LLMEvaluator):
        await evaluator.aclose()
