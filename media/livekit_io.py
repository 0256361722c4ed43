"""The interviewer's I/O in a LiveKit room (livekit.rtc): the candidate's microphone in, its voice
out, events as data messages; and the candidate's tracks as the delivery-signal consumer reads them.

The same pieces as the embedded room's (media/agent_io.py) wherever they can be: the voice is
the embedded room's VoiceTrack (segments, barge-in clear, the playback events the runner's
turn-taking depends on) emptied into an rtc.AudioSource instead of an aiortc sender, and the
candidate's audio goes through the same bounded queue (QueuedAudioInput).
"""

from __future__ import annotations

import asyncio
import fractions
import json
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from livekit import rtc
from livekit.agents.utils import aio

from agent.events import WireEvent
from media.agent_io import INPUT_QUEUE_FRAMES, INPUT_SAMPLE_RATE, QueuedAudioInput, VoiceTrackOutput
from media.room_server import STATE_EVENTS
from media.voice_track import SAMPLE_RATE as VOICE_SAMPLE_RATE
from media.voice_track import VoiceTrack

logger = logging.getLogger(__name__)

# The topic of the room's events (agent/events.py, as JSON): the same dicts the embedded room
# sends on its signalling socket.
EVENTS_TOPIC = "greenroom.events"
# The live delivery summaries, a few times a second (the embedded server's live feed).
SIGNALS_TOPIC = "greenroom.signals"
# The interviewer participant's attributes that hold the latest state event of each type
# (e.g. "greenroom.question"): LiveKit syncs them to everyone who joins, hidden coaches too.
STATE_ATTRIBUTE_PREFIX = "greenroom."
VOICE_TRACK_NAME = "greenroom-interviewer"
STATE_RETRY_S = 0.5  # how often state kept for the attributes is retried while the room is not connected
# How long the interview waits, once the candidate's microphone is read, for the interviewer's
# voice to reach them (wait_for_candidate), looking every VOICE_READY_POLL_S.
VOICE_READY_WITHIN_S = 10.0
VOICE_READY_POLL_S = 0.1
# Speech handed to the AudioSource ahead of playback: what a barge-in clears there, and how
# early a segment's end is reported before it is heard.
VOICE_SOURCE_QUEUE_MS = 100
# Candidate audio frames the rtc stream may hold before the input's own queue takes them.
STREAM_CAPACITY_FRAMES = INPUT_QUEUE_FRAMES
PROSODY_SAMPLE_RATE = 16000

IsCandidate = Callable[[rtc.RemoteParticipant], bool]


def is_microphone(publication: rtc.TrackPublication) -> bool:
    return publication.kind == rtc.TrackKind.KIND_AUDIO and publication.source in (
        rtc.TrackSource.SOURCE_MICROPHONE,
        rtc.TrackSource.SOURCE_UNKNOWN,
    )


def is_camera(publication: rtc.TrackPublication) -> bool:
    return publication.kind == rtc.TrackKind.KIND_VIDEO and publication.source in (
        rtc.TrackSource.SOURCE_CAMERA,
        rtc.TrackSource.SOURCE_UNKNOWN,
    )


class StreamAudioInput(QueuedAudioInput):
    """The candidate's microphone from a LiveKit track, resampled to 16 kHz mono by livekit.rtc;
    a new track (the candidate rejoined) replaces the previous one."""

    def attach(self, track: rtc.Track) -> None:
        self._read_from(self._read(track), "candidate-audio-reader")

    async def _read(self, track: rtc.Track) -> None:
        stream = rtc.AudioStream(
            track,
            sample_rate=INPUT_SAMPLE_RATE,
            num_channels=1,
            frame_size_ms=20,
            capacity=STREAM_CAPACITY_FRAMES,
        )
        try:
            async for event in stream:
                self._deliver(event.frame)
        finally:
            await stream.aclose()


class VoiceSourcePump:
    """Empties a VoiceTrack into a LiveKit AudioSource, which paces it out in real time.

    The source holds at most VOICE_SOURCE_QUEUE_MS of speech; clear() drops that as well as what
    the VoiceTrack still queues. Nothing is sent between utterances (receivers hear silence).
    """

    def __init__(self, voice: VoiceTrack) -> None:
        self.voice = voice
        self.source = rtc.AudioSource(VOICE_SAMPLE_RATE, 1, queue_size_ms=VOICE_SOURCE_QUEUE_MS)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._pump(), name="interviewer-voice-pump")

    async def _pump(self) -> None:
        while True:
            pcm = await self.voice.next_speech()
            await self.source.capture_frame(
                rtc.AudioFrame(data=pcm, sample_rate=VOICE_SAMPLE_RATE, num_channels=1, samples_per_channel=len(pcm) // 2)
            )

    def clear(self) -> None:
        self.voice.clear()
        self.source.clear_queue()

    async def aclose(self) -> None:
        if self._task is not None:
            await aio.cancel_and_wait(self._task)
            self._task = None
        await self.source.aclose()


class LiveKitRoomIO:
    """A LiveKit room as an interviewer sees it (agent.interview_io.InterviewRoom): the
    candidate's microphone in, a published voice track out, events as reliable data messages.

    The candidate is the remote participant `is_candidate` picks (its room-role attribute);
    only their microphone is subscribed. The latest question and agent state are sent again to
    a participant who joins later, as the embedded room does, and are kept in the interviewer's
    participant attributes (STATE_ATTRIBUTE_PREFIX + type, JSON) for hidden participants (coaches),
    whose arrival nobody is told of.
    """

    def __init__(self, room: rtc.Room, *, is_candidate: IsCandidate) -> None:
        self._room = room
        self._is_candidate = is_candidate
        self._audio_input = StreamAudioInput()
        self._voice = VoiceTrack()
        self._pump = VoiceSourcePump(self._voice)
        self._publication: rtc.LocalTrackPublication | None = None
        self._candidate_heard: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._attached_sid: str | None = None
        self.current: dict[str, dict[str, Any]] = {}  # the latest state event of each type
        self._state_dirty = asyncio.Event()
        self._state_sync: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.data_errors = 0

    @property
    def audio_input(self) -> StreamAudioInput:
        return self._audio_input

    async def start(self) -> None:
        """Publishes the voice track and starts listening for the candidate's microphone
        (the room must be connected)."""
        room = self._room
        room.on("track_published", self._on_track_published)
        room.on("track_subscribed", self._on_track_subscribed)
        room.on("participant_connected", self._on_participant_connected)
        room.on("participant_attributes_changed", self._on_attributes_changed)
        self._pump.start()
        track = rtc.LocalAudioTrack.create_audio_track(VOICE_TRACK_NAME, self._pump.source)
        self._publication = await room.local_participant.publish_track(
            track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        )
        for participant in room.remote_participants.values():
            self._subscribe_candidate_microphone(participant)

    async def wait_for_candidate(self) -> None:
        """Returns once the candidate's microphone is being read and the interviewer's voice can
        reach them (or VOICE_READY_WITHIN_S has passed without it): spoken before that, the
        greeting plays into a track nobody hears yet. Two things must be up: the candidate's
        browser subscribed to the voice (LiveKit says so once its transport is connected), and
        this side's own publishing transport connected with the voice negotiated on it. Under
        load either took seconds, and the browser then heard the greeting's last frames or
        none of it."""
        await asyncio.shield(self._candidate_heard)
        if self._publication is None:
            return
        heard_at = time.monotonic()
        try:
            await asyncio.wait_for(self._voice_ready(self._publication), VOICE_READY_WITHIN_S)
        except asyncio.TimeoutError:
            logger.warning("the interviewer's voice cannot reach the candidate yet: the interview starts anyway")
            return
        logger.info("the interviewer's voice reaches the candidate", extra={"waited_s": round(time.monotonic() - heard_at, 2)})

    async def _voice_ready(self, publication: rtc.LocalTrackPublication) -> None:
        await publication.wait_for_subscription()
        while not await self._sending():
            await asyncio.sleep(VOICE_READY_POLL_S)

    async def _sending(self) -> bool:
        """This participant's publishing transport is connected, with its voice negotiated on it
        (the one track it publishes)."""
        try:
            stats = (await self._room.get_rtc_stats()).publisher_stats
        except RuntimeError:  # not connected (yet, or again)
            return False
        connected = rtc.stats.DtlsTransportState.DTLS_TRANSPORT_CONNECTED
        kinds = {s.WhichOneof("stats") for s in stats}
        return "outbound_rtp" in kinds and any(
            s.WhichOneof("stats") == "transport" and s.transport.transport.dtls_state == connected for s in stats
        )

    def _subscribe_candidate_microphone(self, participant: rtc.RemoteParticipant) -> None:
        if not self._is_candidate(participant):
            return
        for publication in participant.track_publications.values():
            if is_microphone(publication):
                if publication.track is not None:
                    self._attach(publication.track, publication)
                else:
                    publication.set_subscribed(True)

    def _on_track_published(self, publication: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant) -> None:
        if self._is_candidate(participant) and is_microphone(publication):
            publication.set_subscribed(True)

    def _on_attributes_changed(self, _changed: dict[str, str], participant: rtc.Participant) -> None:
        if isinstance(participant, rtc.RemoteParticipant):
            self._subscribe_candidate_microphone(participant)

    def _on_track_subscribed(
        self, track: rtc.Track, publication: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        if self._is_candidate(participant) and is_microphone(publication):
            self._attach(track, publication)

    def _attach(self, track: rtc.Track, publication: rtc.TrackPublication) -> None:
        if publication.sid == self._attached_sid:
            return
        self._attached_sid = publication.sid
        self._audio_input.attach(track)
        if not self._candidate_heard.done():
            self._candidate_heard.set_result(None)

    def _on_participant_connected(self, participant: rtc.RemoteParticipant) -> None:
        if self.current:
            for event in list(self.current.values()):
                self._spawn(self._send(event, [participant.identity]))

    def audio_output(self, on_reply_audio: Callable[[float], None]) -> VoiceTrackOutput:
        return VoiceTrackOutput(self._voice, on_segment_started=lambda ev: on_reply_audio(ev.at))

    def listen(self, *, heard: Callable[[bytes, int], None], said: Callable[[bytes, int], None]) -> None:
        self._audio_input.on_frame = lambda f: heard(bytes(f.data), INPUT_SAMPLE_RATE)
        self._voice.on_sent = lambda pcm: said(pcm, VOICE_SAMPLE_RATE)

    def silence(self) -> None:
        self._pump.clear()

    async def broadcast(self, wire_event: WireEvent) -> None:
        event = wire_event.to_wire()
        if event["type"] in STATE_EVENTS:
            self.current[event["type"]] = event
            self._state_dirty.set()
            if self._state_sync is None:
                self._state_sync = asyncio.create_task(self._sync_state(), name="interviewer-state-attributes")
        await self._send(event)

    async def _sync_state(self) -> None:
        """Keeps the interviewer's attributes on the latest state events; changes made while
        one update is in flight are sent together, newest last."""
        while True:
            await self._state_dirty.wait()
            self._state_dirty.clear()
            attributes = {STATE_ATTRIBUTE_PREFIX + kind: json.dumps(event) for kind, event in self.current.items()}
            if not self._room.isconnected():  # kept for when it is (re)connected
                self._state_dirty.set()
                await asyncio.sleep(STATE_RETRY_S)
                continue
            try:
                await self._room.local_participant.set_attributes(attributes)
            except Exception as exc:  # the room closing under us
                self.data_errors += 1
                logger.warning("interviewer state not kept in attributes", extra={"error": type(exc).__name__})

    async def publish_signals(self, event: dict[str, Any]) -> None:
        """A live delivery summary for everyone in the room; lossy, a newer one follows soon."""
        await self._send(event, topic=SIGNALS_TOPIC, reliable=False)

    async def _send(
        self, event: dict[str, Any], to: list[str] | None = None, *, topic: str = EVENTS_TOPIC, reliable: bool = True
    ) -> None:
        if not self._room.isconnected():
            return
        try:
            await self._room.local_participant.publish_data(
                json.dumps(event), reliable=reliable, topic=topic, destination_identities=to or []
            )
        except Exception as exc:  # the room closing under us: the event is lost, not the interview
            self.data_errors += 1
            if reliable:  # a lost summary is followed by a newer one
                logger.warning("room event not sent", extra={"event_type": event.get("type"), "error": type(exc).__name__})

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        room = self._room
        for name, handler in (
            ("track_published", self._on_track_published),
            ("track_subscribed", self._on_track_subscribed),
            ("participant_connected", self._on_participant_connected),
            ("participant_attributes_changed", self._on_attributes_changed),
        ):
            room.off(name, handler)
        await self._audio_input.detach()
        if self._state_sync is not None:
            await aio.cancel_and_wait(self._state_sync)
        for task in list(self._tasks):
            await aio.cancel_and_wait(task)
        await self._pump.aclose()


# -- the candidate's tracks for the delivery-signal consumer -------------------------------


class StreamAudioTrack(MediaStreamTrack):
    """A LiveKit audio track read as an aiortc track (what DeliveryConsumer reads): 16 kHz mono
    s16 frames; MediaStreamError when the track ends."""

    kind = "audio"

    def __init__(self, track: rtc.Track, *, capacity_frames: int = 50) -> None:
        super().__init__()
        self._stream = rtc.AudioStream(
            track, sample_rate=PROSODY_SAMPLE_RATE, num_channels=1, frame_size_ms=20, capacity=capacity_frames
        )
        self._pts = 0

    async def recv(self) -> av.AudioFrame:
        try:
            event = await self._stream.__anext__()
        except StopAsyncIteration:
            raise MediaStreamError from None
        lk = event.frame
        pcm = np.frombuffer(lk.data, dtype=np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = PROSODY_SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, PROSODY_SAMPLE_RATE)
        self._pts += lk.samples_per_channel
        return frame

    async def aclose(self) -> None:
        self.stop()
        await self._stream.aclose()


class StreamVideoTrack(MediaStreamTrack):
    """A LiveKit video track read as an aiortc track (what the face consumer reads): the newest
    frame only (capacity 1), as av.VideoFrame; MediaStreamError when the track ends."""

    kind = "video"

    def __init__(self, track: rtc.Track) -> None:
        super().__init__()
        self._stream = rtc.VideoStream(track, capacity=1, format=rtc.VideoBufferType.I420)

    async def recv(self) -> av.VideoFrame:
        try:
            event = await self._stream.__anext__()
        except StopAsyncIteration:
            raise MediaStreamError from None
        return to_av_frame(event.frame)

    async def aclose(self) -> None:
        self.stop()
        await self._stream.aclose()


def to_av_frame(frame: rtc.VideoFrame) -> av.VideoFrame:
    """An I420 LiveKit frame as a yuv420p av frame (one copy; colour conversion is left to the
    face worker's thread); odd sizes, which yuv420p cannot hold, go through RGB."""
    w, h = frame.width, frame.height
    if frame.type == rtc.VideoBufferType.I420 and w % 2 == 0 and h % 2 == 0:
        planes = np.frombuffer(frame.data, dtype=np.uint8)[: w * h * 3 // 2].reshape(h * 3 // 2, w)
        return av.VideoFrame.from_ndarray(planes, format="yuv420p")
    rgb = frame.convert(rtc.VideoBufferType.RGB24)
    return av.VideoFrame.from_ndarray(np.frombuffer(rgb.data, dtype=np.uint8).reshape(h, w, 3), format="rgb24")


class CandidateTracksSink(Protocol):
    """What the candidate's tracks feed: media/delivery_session.DeliveryConsumer."""

    async def attach_video(self, track: MediaStreamTrack) -> None: ...

    def attach_audio(self, track: MediaStreamTrack) -> None: ...


class CandidateMediaReader:
    """Joins a room as a hidden, receive-only participant of its own (the delivery-signal
    consumer) and hands the candidate's camera and microphone, as they come and go, to a
    DeliveryConsumer. Everything here runs on the interviewer's event loop but does no media work:
    the rtc streams are bounded (newest video frame only), the signals do the rest off the loop.
    """

    def __init__(self, signals: CandidateTracksSink, *, is_candidate: IsCandidate) -> None:
        self._signals = signals
        self._is_candidate = is_candidate
        self._room = rtc.Room()
        self._tracks: dict[str, StreamAudioTrack | StreamVideoTrack] = {}  # by kind
        self._tasks: set[asyncio.Task[None]] = set()
        self._room.on("track_published", self._on_track_published)
        self._room.on("track_subscribed", self._on_track_subscribed)
        self._room.on("participant_attributes_changed", self._on_attributes_changed)

    @property
    def room(self) -> rtc.Room:
        return self._room

    async def connect(self, url: str, token: str) -> None:
        await self._room.connect(url, token, options=rtc.RoomOptions(auto_subscribe=False))
        for participant in self._room.remote_participants.values():
            self._subscribe(participant)

    def _wanted(self, publication: rtc.TrackPublication) -> bool:
        return is_microphone(publication) or is_camera(publication)

    def _subscribe(self, participant: rtc.RemoteParticipant) -> None:
        if not self._is_candidate(participant):
            return
        for publication in participant.track_publications.values():
            if self._wanted(publication):
                if publication.track is not None:
                    self._take(publication.track, publication)
                else:
                    publication.set_subscribed(True)

    def _on_track_published(self, publication: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant) -> None:
        if self._is_candidate(participant) and self._wanted(publication):
            publication.set_subscribed(True)

    def _on_attributes_changed(self, _changed: dict[str, str], participant: rtc.Participant) -> None:
        if isinstance(participant, rtc.RemoteParticipant):
            self._subscribe(participant)

    def _on_track_subscribed(
        self, track: rtc.Track, publication: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        if self._is_candidate(participant) and self._wanted(publication):
            self._take(track, publication)

    def _take(self, track: rtc.Track, publication: rtc.TrackPublication) -> None:
        kind = "video" if publication.kind == rtc.TrackKind.KIND_VIDEO else "audio"
        previous = self._tracks.get(kind)
        if previous is not None and getattr(previous, "publication_sid", None) == publication.sid:
            return
        adapted: StreamAudioTrack | StreamVideoTrack
        adapted = StreamVideoTrack(track) if kind == "video" else StreamAudioTrack(track)
        adapted.publication_sid = publication.sid  # type: ignore[attr-defined]
        self._tracks[kind] = adapted
        if previous is not None:
            self._spawn(previous.aclose())
        if kind == "video":
            self._spawn(self._signals.attach_video(adapted))
        else:
            self._signals.attach_audio(adapted)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Leaves the room; the signals' own readers see their tracks end."""
        for task in list(self._tasks):
            await aio.cancel_and_wait(task)
        for track in list(self._tracks.values()):
            await track.aclose()
        self._tracks.clear()
        await self._room.disconnect()
