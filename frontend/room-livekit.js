// The interview room on a LiveKit server (the join's transport is "livekit"): livekit-client's
// Room with the candidate's token, the camera and microphone the mirror check opened published
// as they are (the browser's echo cancellation stays on), the interviewer's voice played and
// metered, and the room's events read from data messages. livekit-client reconnects on its own;
// when it gives up, the page's own retry loop joins again with a fresh token.

import {
  ConnectionError,
  ConnectionErrorReason,
  EVENTS_TOPIC,
  Room,
  RoomEvent,
  StateSeen,
  Track,
  decodeEvent,
  isInterviewer,
  receivedAudio,
  roomOptions,
  stateEvents,
} from "./livekit.js";
import { RoomConnection, greenroom } from "./room-connection.js";

export class LiveKitConnection extends RoomConnection {
  constructor(options) {
    super(options);
    this.room = null;
    this.voice = null; // the interviewer's audio track
    this.seen = new StateSeen();
    // livekit-client would leave on beforeunload, before the page has asked the candidate whether
    // to leave: the page leaves the room itself, once it is really going.
    this.leavePage = () => { if (this.room) this.room.disconnect(); };
    window.addEventListener("pagehide", this.leavePage);
  }

  async connect() {
    const again = this.reconnectAttempts > 0;
    this.setState(again ? "reconnecting" : "connecting", again ? "Reconnecting…" : "Connecting…");
    // The tracks are the page's: livekit-client must not stop them when it unpublishes (a rejoin
    // publishes them again).
    const room = (this.room = new Room(roomOptions({ stopLocalTrackOnUnpublish: false, disconnectOnPageLeave: false })));
    this.listen(room);
    try {
      await room.connect(this.join.url, this.join.token, { autoSubscribe: true });
      if (room !== this.room || this.ending) return room.disconnect();
      await this.publish(room);
    } catch (err) {
      if (room !== this.room || this.ending) return;
      this.room = null; // its Disconnected event is not a drop to recover from
      room.disconnect();
      if (err instanceof ConnectionError && err.reason === ConnectionErrorReason.NotAllowed) {
        return this.refused("The room refused this join.");
      }
      return this.scheduleReconnect();
    }
    for (const participant of room.remoteParticipants.values()) {
      this.catchUp(participant);
      for (const publication of participant.trackPublications.values()) {
        if (publication.track) this.onTrack(publication.track, participant);
      }
    }
    this.reconnectAttempts = 0;
    this.setState("live", "Live");
  }

  listen(room) {
    const mine = (handler) => (...args) => { if (room === this.room) handler(...args); };
    room
      .on(RoomEvent.DataReceived, mine((payload, _participant, _kind, topic) => {
        if (topic !== EVENTS_TOPIC) return;
        const event = decodeEvent(payload);
        if (event && this.seen.fromData(event)) this.onEvent(event);
      }))
      .on(RoomEvent.TrackSubscribed, mine((track, _publication, participant) => this.onTrack(track, participant)))
      .on(RoomEvent.TrackUnsubscribed, mine((track) => {
        if (track === this.voice) {
          track.detach();
          this.voice = null;
        }
      }))
      .on(RoomEvent.ParticipantConnected, mine((participant) => this.catchUp(participant)))
      // The interviewer's state may reach its attributes after this page joined.
      .on(RoomEvent.ParticipantAttributesChanged, mine((_changed, participant) => this.catchUp(participant)))
      .on(RoomEvent.Reconnecting, mine(() => this.setState("reconnecting", "Reconnecting…")))
      .on(RoomEvent.SignalReconnecting, mine(() => this.setState("reconnecting", "Reconnecting…")))
      .on(RoomEvent.Reconnected, mine(() => {
        this.reconnectAttempts = 0;
        this.setState("live", "Live");
      }))
      .on(RoomEvent.Disconnected, mine(() => {
        if (this.ending || greenroom.state === "ended") return;
        this.scheduleReconnect(); // livekit-client gave up (or the room went): join again
      }));
  }

  /** Publishes the mirror check's camera and microphone, as they are. */
  async publish(room) {
    for (const track of this.localStream.getTracks()) {
      const source = track.kind === "audio" ? Track.Source.Microphone : Track.Source.Camera;
      await room.localParticipant.publishTrack(track, { source });
    }
  }

  /** The interviewer's state kept in its attributes: the current question on joining late. */
  catchUp(participant) {
    if (!isInterviewer(participant)) return;
    for (const event of stateEvents(participant)) {
      if (this.seen.fromAttributes(event)) this.onEvent(event);
    }
  }

  onTrack(track, participant) {
    if (track.kind !== Track.Kind.Audio || !isInterviewer(participant) || track === this.voice) return;
    if (this.voice) this.voice.detach();
    this.voice = track;
    if (this.audioElement) track.attach(this.audioElement);
    greenroom.receivedAudio = () => receivedAudio(this.voice);
    greenroom.audio.trackAt = performance.now(); // when the interviewer's voice was subscribed
    this.meterInterviewer(new MediaStream([track.mediaStreamTrack]));
  }

  /** Mutes the published microphone (LiveKit tells the room it is muted). */
  toggleMute() {
    const publication = this.room && this.room.localParticipant.getTrackPublication(Track.Source.Microphone);
    if (!publication || !publication.track) return super.toggleMute();
    const muted = !publication.isMuted;
    if (muted) publication.mute();
    else publication.unmute();
    return muted;
  }

  close() {
    window.removeEventListener("pagehide", this.leavePage);
    super.close();
  }

  disconnect() {
    const room = this.room;
    this.room = null;
    if (this.voice) this.voice.detach();
    this.voice = null;
    if (room) room.disconnect();
  }
}
