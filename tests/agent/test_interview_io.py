"""The interviewer's captions output: its words handed on as they are spoken."""

from __future__ import annotations

from agent.interview_io import CallbackTextOutput


async def test_captions_are_handed_on_as_spoken_then_closed() -> None:
    received: list[tuple[str, bool]] = []
    captions = CallbackTextOutput(lambda text, final: received.append((text, final)))

    await captions.capture_text("Tell me about ")
    await captions.capture_text("yourself.")
    captions.flush()

    assert received == [("Tell me about ", False), ("yourself.", False), ("", True)]
