"""The scripted OpenAI-compatible server the tests use: it lives in bench/fake_openai.py, where
the benches use it too."""

from bench.fake_openai import (
    STREAM_TEXT,
    STRONGER_ANSWER,
    TRANSCRIPT_TEXT,
    FakeOpenAI,
    Reply,
    StreamReply,
    StreamTiming,
    assessment,
)

__all__ = [
    "STREAM_TEXT",
    "STRONGER_ANSWER",
    "TRANSCRIPT_TEXT",
    "FakeOpenAI",
    "Reply",
    "StreamReply",
    "StreamTiming",
    "assessment",
]
