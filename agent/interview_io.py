"""What an interviewer is handed by the room it runs in (as protocols), and its captions output."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from livekit.agents.voice import io

from agent.events import WireEvent
from agent.stt_whisper import RecognizedUtterance


class InterviewRoom(Protocol):
    """A room as the interviewer needs it; media/agent_io.py adapts the embedded one."""

    @property
    def audio_input(self) -> io.AudioInput:
        """The candidate's audio."""

    def audio_output(self, on_reply_audio: Callable[[float], None]) -> io.AudioOutput:
        """Where the interviewer's voice goes; on_reply_audio(at) when a segment's first audio goes out."""

    def listen(self, *, heard: Callable[[bytes, int], None], said: Callable[[bytes, int], None]) -> None:
        """Taps (s16 PCM, sample rate) on the candidate's audio as it arrives and on the voice as it is sent."""

    def silence(self) -> None:
        """Stops the interviewer's voice at once."""

    async def broadcast(self, event: WireEvent) -> None:
        """Sends an event to everyone in the room (as its `to_wire()` JSON)."""

    async def aclose(self) -> None:
        """Stops reading the candidate's audio."""


class DeliverySignals(Protocol):
    """The session's delivery-signal consumer, as the interviewer feeds it (media/delivery_session.py)."""

    origin_wall: float  # wall time of the signals' t = 0, the session's start

    def on_utterance(self, u: RecognizedUtterance) -> None: ...

    def on_sound(self, u: RecognizedUtterance) -> None: ...

    def on_interviewer_speaking(self, speaking: bool) -> None: ...

    def on_question_end(self, at: float) -> None: ...


class CallbackTextOutput(io.TextOutput):
    """The interviewer's words as they are spoken, handed to a callback (live captions)."""

    def __init__(self, on_text: Callable[[str, bool], None]) -> None:
        super().__init__(label="greenroom-captions", next_in_chain=None)
        self._on_text = on_text

    async def capture_text(self, text: str) -> None:
        self._on_text(text, False)

    def flush(self) -> None:
        self._on_text("", True)
