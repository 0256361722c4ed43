"""A Python WebRTC participant for Greenroom's embedded rooms, used by the media tests and the bench.

It joins over the signalling WebSocket, publishes a scripted microphone (speech made with
espeak-ng, then silence) and, optionally, a camera playing synthetic frames, and listens to the
interviewer's voice, noting when it is voiced.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import hashlib
import json
import shutil
import subprocess
import time
import wave
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import websockets
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.ice_consent import keep_consent_under_load

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960  # 20 ms
VIDEO_CLOCK_RATE = 90000  # RTP clock of video
CAMERA_FPS = 15
FRAME_S = FRAME_SAMPLES / SAMPLE_RATE
# A received frame whose RMS (s16) is above this counts as interviewer speech; Opus-decoded
# digital silence stays within a few units of zero.
VOICED_RMS = 20.0
# A sample of synthetic speech louder than this is speech; espeak-ng pads with exact zeros.
SPEECH_AMPLITUDE = 64
VOICED_HISTORY = 50 * 120  # voiced frames remembered (two minutes of speech)


class ClientError(Exception):
    """Something the client waited for did not happen (timeout, refused join, socket gone)."""


# -- speech -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Speech:
    """Spoken words as 48 kHz mono s16 samples, trimmed so that the last sample ends the speech."""

    text: str
    samples: np.ndarray

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def espeak(text: str, workdir: Path, *, speed: int = 160, voice: str = "en-us") -> Speech:
    """Synthesize text with espeak-ng (an offline, deterministic stand-in for a candidate)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise ClientError("espeak-ng is required for test speech: apt-get install espeak-ng")
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"speech-{hashlib.sha1(f'{voice}|{speed}|{text}'.encode()).hexdigest()[:12]}.wav"
    subprocess.run([exe, "-v", voice, "-s", str(speed), "-w", str(path), text], check=True, timeout=60)
    with wave.open(str(path)) as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise ClientError("espeak-ng wrote an unexpected WAV format")
        rate = wav.getframerate()
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    samples = resample(pcm, rate)
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SPEECH_AMPLITUDE)
    if loud.size == 0:
        raise ClientError("espeak-ng produced silence")
    return Speech(text=text, samples=samples[loud[0] : loud[-1] + 1])


def resample(pcm: np.ndarray, rate: int) -> np.ndarray:
    """Mono s16 samples at `rate` as mono s16 at 48 kHz."""
    frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    out = [f.to_ndarray().reshape(-1) for f in (*resampler.resample(frame), *resampler.resample(None))]
    return np.concatenate(out).astype(np.int16)


# -- microphone ---------------------------------------------------------------


class SpeechQueue:
    """Speech waiting to be sent, cut into frames as it goes; each utterance's future resolves
    when its last sample has gone (to the time `finished_at(samples into the frame)` gives)."""

    def __init__(self) -> None:
        self._queue: deque[tuple[np.ndarray, asyncio.Future[float]]] = deque()
        self._position = 0  # samples of the head of the queue already taken

    def say(self, speech: Speech) -> asyncio.Future[float]:
        done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._queue.append((speech.samples, done))
        return done

    def __bool__(self) -> bool:
        return bool(self._queue)

    def take(self, frame_samples: int, finished_at: Callable[[int], float]) -> np.ndarray:
        """The next frame: queued speech, then silence."""
        out = np.zeros(frame_samples, dtype=np.int16)
        filled = 0
        while filled < frame_samples and self._queue:
            samples, done = self._queue[0]
            take = min(frame_samples - filled, len(samples) - self._position)
            out[filled : filled + take] = samples[self._position : self._position + take]
            filled += take
            self._position += take
            if self._position == len(samples):
                self._queue.popleft()
                self._position = 0
                if not done.done():
                    done.set_result(finished_at(filled))
        return out


class Microphone(MediaStreamTrack):
    """The client's microphone: queued speech in real-time 20 ms frames, silence in between.

    `bed` (48 kHz s16, looped): a sound under everything the microphone sends, speech and
    silence alike, from the moment it opens (another voice in the room, a television)."""

    kind = "audio"

    def __init__(self, bed: np.ndarray | None = None) -> None:
        super().__init__()
        self._speech = SpeechQueue()
        self._start: float | None = None
        self._pts = 0
        self._bed = bed

    def say(self, speech: Speech) -> asyncio.Future[float]:
        """Queue speech; the future gives the monotonic time its last sample was sent."""
        return self._speech.say(speech)

    @property
    def speaking(self) -> bool:
        return bool(self._speech)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += FRAME_SAMPLES
            wait = self._start + self._pts / SAMPLE_RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        # Sample k of the stream is sent at start + k / SAMPLE_RATE: this frame's timeline.
        frame_at = self._start + self._pts / SAMPLE_RATE
        out = self._speech.take(FRAME_SAMPLES, lambda filled: frame_at + filled / SAMPLE_RATE)
        if self._bed is not None and len(self._bed):
            at = np.arange(self._pts, self._pts + FRAME_SAMPLES) % len(self._bed)
            out = np.clip(out.astype(np.int32) + self._bed[at], -32768, 32767).astype(np.int16)

        frame = av.AudioFrame.from_ndarray(out.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        return frame


# -- camera ---------------------------------------------------------------------


def vp8_packets(frames: Sequence[np.ndarray], fps: int = CAMERA_FPS) -> list[bytes]:
    """The frames encoded once as a VP8 clip that starts on a key frame, so that it can be sent
    in a loop as a browser sends its camera: encoded elsewhere, not on the server's cores."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.height, codec.width = frames[0].shape[:2]
    codec.pix_fmt, codec.time_base, codec.bit_rate = "yuv420p", fractions.Fraction(1, fps), 500_000
    codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    packets = []
    for i, rgb in enumerate(frames):
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        if i == 0:
            frame.pict_type = av.video.frame.PictureType.I
        packets += codec.encode(frame)
    packets += codec.encode(None)
    if len(packets) != len(frames) or not packets[0].is_keyframe:
        raise RuntimeError("libvpx did not give one packet per frame starting on a key frame")
    return [bytes(p) for p in packets]


class Camera(MediaStreamTrack):
    """The client's camera: RGB frames played in a loop at a steady frame rate, in real time.

    `packets` (`vp8_packets(frames)`): the loop already encoded, sent as it is, so the client
    costs this machine next to nothing per frame (the capacity bench: a browser encodes its
    camera on its own machine).
    """

    kind = "video"

    def __init__(
        self, frames: Sequence[np.ndarray], *, fps: int = CAMERA_FPS, packets: Sequence[bytes] | None = None
    ) -> None:
        super().__init__()
        if len(frames) == 0:
            raise ValueError("a camera needs at least one frame")
        self._frames = frames
        if packets is not None and len(packets) != len(frames):
            raise ValueError("one packet per frame")
        self._packets = packets
        self._fps = fps
        self.started_at: float | None = None  # monotonic time of the first frame
        self.frames_sent = 0

    async def recv(self) -> av.VideoFrame | av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        if self.started_at is None:
            self.started_at = time.monotonic()
        else:
            wait = self.started_at + self.frames_sent / self._fps - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        index = self.frames_sent % len(self._frames)
        frame = (
            av.Packet(self._packets[index]) if self._packets is not None
            else av.VideoFrame.from_ndarray(self._frames[index], format="rgb24")
        )
        frame.pts = self.frames_sent * VIDEO_CLOCK_RATE // self._fps
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK_RATE)
        self.frames_sent += 1
        return frame


# -- the interviewer's voice --------------------------------------------------


class VoiceLevels:
    """The interviewer's voice as received, frame by frame: how much was voiced, when, and how
    long it has now been quiet (what the benches and tests wait on, on either transport)."""

    def __init__(self, frame_s: float) -> None:
        self.frame_s = frame_s
        self.frames = 0
        self.voiced_frames = 0
        self.peak_rms = 0.0
        self.voiced_at: deque[float] = deque(maxlen=VOICED_HISTORY)  # receive times of voiced frames
        self._quiet_frames = 0  # consecutive silent frames received
        self._changed = asyncio.Event()

    def note(self, rms: float, now: float) -> None:
        """One frame received at `now` (monotonic) with this RMS."""
        self.peak_rms = max(self.peak_rms, rms)
        self.frames += 1
        if rms > VOICED_RMS:
            self.voiced_frames += 1
            self.voiced_at.append(now)
            self._quiet_frames = 0
        else:
            self._quiet_frames += 1
        self._changed.set()

    @property
    def quiet_for_s(self) -> float:
        """How long the received audio has now been silent."""
        return self._quiet_frames * self.frame_s

    async def first_voice_after(self, after: float, timeout: float) -> float:
        """The monotonic time of the first voiced frame received at or after `after`."""
        async with deadline(timeout, f"no interviewer voice within {timeout:.0f} s"):
            while True:
                for at in self.voiced_at:
                    if at >= after:
                        return at
                self._changed.clear()
                await self._changed.wait()

    async def quiet_for(self, quiet_s: float, timeout: float) -> None:
        """Waits until `quiet_s` of received audio in a row has been silent."""
        async with deadline(timeout, f"the interviewer did not stop speaking within {timeout:.0f} s"):
            while self._quiet_frames * self.frame_s < quiet_s:
                self._changed.clear()
                await self._changed.wait()


class VoiceListener(VoiceLevels):
    """Reads the interviewer's aiortc track (20 ms frames) into its levels."""

    def __init__(self, track: MediaStreamTrack) -> None:
        super().__init__(FRAME_S)
        self._task = asyncio.create_task(self._read(track), name="voice-listener")

    async def _read(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            pcm = frame.to_ndarray().astype(np.float32)
            self.note(float(np.sqrt(np.mean(pcm * pcm))), time.monotonic())

    async def aclose(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@contextlib.asynccontextmanager
async def deadline(timeout: float, message: str):
    try:
        async with asyncio.timeout(timeout):
            yield
    except TimeoutError:
        raise ClientError(message) from None


# -- the participant ----------------------------------------------------------


class RoomClient:
    """One participant: the signalling socket, its peer connection and the events it was sent."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []  # every event received, in order
        self._unread: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self.pc: RTCPeerConnection | None = None
        self.voice: VoiceListener | None = None
        self._reader = asyncio.create_task(self._read(), name="signal-reader")

    @classmethod
    async def connect(cls, signal_url: str, *, timeout: float = 10.0) -> RoomClient:
        """Open the room's signalling socket (ws://host:port/v1/rooms/{id}/signal)."""
        ws = await asyncio.wait_for(websockets.connect(signal_url, max_size=None), timeout)
        return cls(ws)

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                event = json.loads(raw)
                self.events.append(event)
                self._unread.append(event)
                self._changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self._changed.set()

    @property
    def closed(self) -> bool:
        return self._reader.done()

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(message if isinstance(message, str | bytes) else json.dumps(message))

    async def next_event(self, kind: str, *, timeout: float = 10.0) -> dict[str, Any]:
        """The oldest unread event of this type, waiting for one if needed."""
        async with deadline(timeout, f"no {kind!r} event within {timeout:.0f} s"):
            while True:
                for i, event in enumerate(self._unread):
                    if event.get("type") == kind:
                        return self._unread.pop(i)
                if self.closed:
                    raise ClientError(f"socket closed ({self.ws.close_code}) before a {kind!r} event")
                self._changed.clear()
                await self._changed.wait()

    async def wait_closed(self, *, timeout: float = 10.0) -> tuple[int | None, str | None]:
        """The close code and reason, once the server has closed the socket."""
        async with deadline(timeout, "the socket stayed open"):
            await self._reader
        return self.ws.close_code, self.ws.close_reason

    async def join(self, token: str, *, timeout: float = 10.0) -> dict[str, Any]:
        """Send a join; returns the `joined` event, or raises with the server's error."""
        await self.send({"type": "join", "token": token})
        async with deadline(timeout, "no answer to join"):
            while True:
                for event in self._unread:
                    if event.get("type") in ("joined", "error"):
                        self._unread.remove(event)
                        if event["type"] == "error":
                            raise ClientError(f"join refused: {event['code']}: {event['message']}")
                        return event
                if self.closed:
                    raise ClientError(f"socket closed ({self.ws.close_code}) before joined")
                self._changed.clear()
                await self._changed.wait()

    async def publish(
        self, microphone: Microphone | None, *, camera: Camera | None = None, timeout: float = 15.0
    ) -> VoiceListener:
        """Offer the microphone (or receive only) and the camera if any, apply the answer, wait for media."""
        keep_consent_under_load()  # as a browser keeps it: late answers count (media/ice_consent.py)
        pc = self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        tracks: asyncio.Queue[MediaStreamTrack] = asyncio.Queue()
        pc.on("track", lambda track: track.kind == "audio" and tracks.put_nowait(track))
        if microphone is not None:
            pc.addTrack(microphone)
        else:
            pc.addTransceiver("audio", direction="recvonly")
        if camera is not None:
            pc.addTrack(camera)
        await pc.setLocalDescription(await pc.createOffer())
        await self.send({"type": "offer", "sdp": pc.localDescription.sdp})
        answer = await self.next_event("answer", timeout=timeout)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        async with deadline(timeout, "the peer connection did not connect"):
            while pc.connectionState != "connected":
                if pc.connectionState in ("failed", "closed"):
                    raise ClientError(f"peer connection {pc.connectionState}")
                await asyncio.sleep(0.05)
        self.voice = VoiceListener(await asyncio.wait_for(tracks.get(), timeout))
        return self.voice

    async def close(self) -> None:
        """Leave: close the peer connection and the socket (the room keeps a grace period)."""
        if self.voice is not None:
            await self.voice.aclose()
        if self.pc is not None:
            await self.pc.close()
        await self.ws.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self._reader, 5)
