"""The LiveKit worker's composition that needs no server: which session a job is for, its options."""

from __future__ import annotations

import json
import uuid

from livekit.agents import JobExecutorType
from livekit.protocol import agent as agent_pb
from livekit.protocol import models
from pydantic import SecretStr

from greenroom.livekit_worker import LiveKitInterviewers, missing_settings, session_id_of
from greenroom.settings import Settings


def job(room: str, metadata: str = "") -> agent_pb.Job:
    return agent_pb.Job(room=models.Room(name=room), metadata=metadata)


def test_a_job_is_for_the_session_its_dispatch_names_else_its_room() -> None:
    session_id = uuid.uuid4()
    assert session_id_of(job("lobby", json.dumps({"session_id": str(session_id)}))) == session_id
    assert session_id_of(job(str(session_id))) == session_id
    assert session_id_of(job(str(session_id), "not json")) == session_id
    assert session_id_of(job("lobby", json.dumps({"session_id": "nope"}))) is None
    assert session_id_of(job("lobby")) is None


def test_the_worker_needs_a_livekit_server_to_register_with() -> None:
    settings = Settings(_env_file=None, database_url="postgresql://db/greenroom")
    assert missing_settings(settings) == ["LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"]


def test_jobs_run_as_threads_sharing_the_process_models_under_the_configured_name() -> None:
    settings = Settings(
        _env_file=None,
        database_url="postgresql://db/greenroom",
        livekit_url="ws://livekit.test:7880",
        livekit_api_key="key",
        livekit_api_secret=SecretStr("secret"),
        livekit_agent_name="interviewer-blue",
    )
    sentinel = object()
    interviewers = LiveKitInterviewers(settings, models=sentinel)  # type: ignore[arg-type]
    options = interviewers.worker_options()
    assert options.job_executor_type == JobExecutorType.THREAD
    assert options.agent_name == "interviewer-blue"
    assert (options.ws_url, options.api_key, options.api_secret) == ("ws://livekit.test:7880", "key", "secret")
    assert interviewers.models() is sentinel  # loaded once, shared by every job
