"""make_evaluator: the LLM evaluator only when an endpoint is configured."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from greenroom.settings import Settings
from scoring.factory import close_evaluator, make_evaluator
from scoring.llm import LLMEvaluator
from scoring.offline import OfflineEvaluator


def _settings(tmp_path: Path, **fields) -> Settings:
    return Settings(data_dir=tmp_path, _env_file=None, **fields)


async def test_offline_by_default(tmp_path: Path) -> None:
    evaluator = make_evaluator(_settings(tmp_path))
    assert isinstance(evaluator, OfflineEvaluator) and evaluator.name == "offline"
    await close_evaluator(evaluator)  # a no-op


async def test_llm_when_an_endpoint_is_configured(tmp_path: Path) -> None:
    evaluator = make_evaluator(
        _settings(
            tmp_path,
            llm_base_url="http://127.0.0.1:9/v1",
            llm_api_key=SecretStr("sk-test"),
            llm_model="small-model",
            llm_timeout_s=3,
        )
    )
    assert isinstance(evaluator, LLMEvaluator)
    assert evaluator.name == "llm:small-model"
    await close_evaluator(evaluator)


def test_settings_defaults(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert settings.llm_base_url is None and settings.llm_api_key is None
    assert settings.llm_model == "gpt-4o-mini" and settings.llm_timeout_s == 20
