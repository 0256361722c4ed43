"""The candidate's usual level, and speech far under it taken for another voice."""

from __future__ import annotations

import numpy as np
import pytest
from livekit import rtc
from livekit.agents import vad
from livekit.plugins import silero

from agent.voice_level import (
    AFTER_TURN_DB,
    BACKGROUND_DB,
    KNOWN_AFTER,
    RELEARN_AFTER,
    REMEMBERED,
    VoiceGatedVAD,
    VoiceLevel,
    level_db,
)
from tests.agent.test_stt_whisper import silence, speak

RATE = 16000


def tone(amplitude: float, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_a_level_is_the_speech_not_the_silence_around_it() -> None:
    speech = tone(0.1, 0.4)  # RMS 0.0707: -23 dB
    padded = np.concatenate([np.zeros(RATE // 2, np.float32), speech, np.zeros(RATE, np.float32)])
    assert level_db(speech, RATE) == pytest.approx(-23.0, abs=0.1)
    assert level_db(padded, RATE) == pytest.approx(level_db(speech, RATE), abs=0.5)
    assert level_db(np.zeros(RATE, np.float32), RATE) < -100


def test_nothing_is_another_voice_until_the_candidate_has_been_heard() -> None:
    voice = VoiceLevel()
    for _ in range(KNOWN_AFTER - 1):
        voice.heard(-20.0)
        assert voice.usual_db is None and not voice.is_background(-60.0)
    voice.heard(-20.0)
    assert voice.usual_db == -20.0
    assert voice.is_background(-20.0 - BACKGROUND_DB - 0.1)
    assert not voice.is_background(-20.0 - BACKGROUND_DB + 0.1)
    # Once the turn has ended, nearer: a meeting's fragments came 7.8-11 dB under the candidate.
    assert voice.is_background(-20.0 - AFTER_TURN_DB - 0.1, under_db=AFTER_TURN_DB)
    assert not voice.is_background(-20.0 - AFTER_TURN_DB + 0.1, under_db=AFTER_TURN_DB)
    assert not voice.is_background(-20.0 - AFTER_TURN_DB - 0.1)


def test_the_usual_level_follows_a_candidate_who_moves() -> None:
    voice = VoiceLevel()
    for _ in range(REMEMBERED):
        voice.heard(-20.0)
    assert voice.is_background(-35.0)
    for _ in range(REMEMBERED):  # they sat back from the microphone
        voice.heard(-30.0)
    assert voice.usual_db == -30.0 and not voice.is_background(-35.0)


async def gated_events(gated: VoiceGatedVAD, pcm: np.ndarray) -> list[vad.VADEvent]:
    stream = gated.stream()
    for i in range(0, len(pcm), RATE // 50):
        piece = pcm[i : i + RATE // 50]
        stream.push_frame(rtc.AudioFrame(piece.tobytes(), RATE, 1, len(piece)))
    stream.end_input()
    events = [ev async for ev in stream]
    await stream.aclose()
    return events


@pytest.mark.parametrize(("other_db", "interrupts"), [(-20.0, False), (-4.0, True)])
async def test_another_voice_does_not_interrupt_the_interviewer(other_db: float, interrupts: bool) -> None:
    # livekit stops the interviewer when the VAD's speech_duration passes a minimum: the gated
    # VAD keeps it at 0 for speech far under the candidate's usual level, and only for that.
    speech = speak("The budget meeting has moved to Thursday afternoon.")
    voice = VoiceLevel()
    for _ in range(KNOWN_AFTER):
        voice.heard(level_db(speech.astype(np.float32) / 32768, RATE))
    gated = VoiceGatedVAD(silero.VAD.load(min_silence_duration=0.3), voice)
    quiet = (speech * 10 ** (other_db / 20)).astype(np.int16)
    events = await gated_events(gated, np.concatenate([silence(0.5), quiet, silence(0.8)]))
    longest = max(ev.speech_duration for ev in events if ev.type == vad.VADEventType.INFERENCE_DONE)
    assert any(ev.type == vad.VADEventType.START_OF_SPEECH for ev in events), "the VAD heard no speech: the test shows nothing"
    assert (longest >= 0.4) == interrupts, longest


async def test_while_a_reply_may_be_yielded_a_voice_the_turn_taker_holds_back_does_not_cut_it() -> None:
    # 8 dB under the candidate: over the turn taker's AFTER_TURN_DB, under BACKGROUND_DB. While the
    # reply may be yielded the gate goes by the first, so livekit does not stop the reply's audio
    # for speech the turn taker does not yield to; otherwise by the second, as before.
    speech = speak("The budget meeting has moved to Thursday afternoon.")
    voice = VoiceLevel()
    for _ in range(KNOWN_AFTER):
        voice.heard(level_db(speech.astype(np.float32) / 32768, RATE))
    quiet = np.concatenate([silence(0.5), (speech * 10 ** (-8.0 / 20)).astype(np.int16), silence(0.8)])
    awaiting_reply = [True]
    gated = VoiceGatedVAD(
        silero.VAD.load(min_silence_duration=0.3), voice,
        under_db=lambda: AFTER_TURN_DB if awaiting_reply[0] else BACKGROUND_DB,
    )  # fmt: skip
    for awaiting, interrupts in ((True, False), (False, True)):
        awaiting_reply[0] = awaiting
        events = await gated_events(gated, quiet)
        assert any(ev.type == vad.VADEventType.START_OF_SPEECH for ev in events), "the VAD heard no speech"
        longest = max(ev.speech_duration for ev in events if ev.type == vad.VADEventType.INFERENCE_DONE)
        assert (longest >= 0.4) == interrupts, (awaiting, longest)


def test_a_candidate_who_turns_quieter_is_never_shut_out() -> None:
    # Another microphone, or leaning back: their speech now falls under the gate. After
    # RELEARN_AFTER such utterances with none at the old level between, the gate opens and
    # learns the new level; one utterance at the old level in between resets the count.
    voice = VoiceLevel()
    for _ in range(REMEMBERED):
        voice.heard(-20.0)
    for _ in range(RELEARN_AFTER - 1):
        assert voice.is_background(-40.0)
        voice.let_go(-40.0)
    voice.heard(-20.0)  # the candidate, between two bursts of another voice
    assert voice.is_background(-40.0)
    for _ in range(RELEARN_AFTER):
        assert voice.is_background(-40.0)
        voice.let_go(-40.0)
    assert voice.relearned == 1 and not voice.is_background(-40.0)
    for _ in range(KNOWN_AFTER - RELEARN_AFTER):
        voice.heard(-40.0)
    assert voice.usual_db == -40.0 and voice.is_background(-55.0)

