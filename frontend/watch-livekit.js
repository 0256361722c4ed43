// A coach watching on a LiveKit server (the join's transport is "livekit"). The coach's token
// joins hidden and may only subscribe, and this connection never asks for more: it opens no
// camera or microphone and publishes nothing, not even data. It plays the candidate's camera and
// microphone and the interviewer's voice, and reads the room's events and live signals from data
// messages. When it is disconnected it asks the share link again, which says whether the
// interview ended or access was withdrawn (revoked, expired, deleted), or gives a fresh join.

import {
  EVENTS_TOPIC,
  Room,
  RoomEvent,
  SIGNALS_TOPIC,
  StateSeen,
  Track,
  decodeEvent,
  isInterviewer,
  roleOf,
  roomOptions,
  stateEvents,
} from "./livekit.js";
import { WatchConnection } from "./watch-connection.js";

export class LiveKitWatch extends WatchConnection {
  constructor(options) {
    super(options);
    this.room = null;
    this.seen = new StateSeen();
    this.tracks = new Set(); // the remote tracks shown or played now
    // What this page has published: nothing, ever (read by the tests).
    this.watch.published = () => (this.room ? this.room.localParticipant.trackPublications.size : 0);
  }

  async connect() {
    this.setState(this.reconnectAttempts > 0 ? "reconnecting" : "connecting");
    const room = (this.room = new Room(roomOptions()));
    this.listen(room);
    try {
      await room.connect(this.join.url, this.join.token, { autoSubscribe: true });
    } catch (_) {
      if (room !== this.room || this.closing) return;
      this.room = null;
      room.disconnect();
      this.watch.peerState = "failed";
      this.scheduleReconnect(); // asks the share link again: it knows when access has ended
      return;
    }
    if (room !== this.room || this.closing) return room.disconnect();
    this.watch.peerState = "connected";
    this.reconnectAttempts = 0;
    for (const participant of room.remoteParticipants.values()) {
      this.catchUp(participant);
      for (const publication of participant.trackPublications.values()) {
        if (publication.track) this.onTrack(publication.track, participant);
      }
    }
    this.setState(this.watch.videoFrames > 0 ? "watching" : "waiting");
  }

  listen(room) {
    const mine = (handler) => (...args) => { if (room === this.room && !this.closing) handler(...args); };
    room
      .on(RoomEvent.DataReceived, mine((payload, _participant, _kind, topic) => {
        const event = decodeEvent(payload);
        if (!event) return;
        if (topic === EVENTS_TOPIC && this.seen.fromData(event)) this.onEvent(event);
        else if (topic === SIGNALS_TOPIC && event.type === "summary") this.showSummary(event);
      }))
      .on(RoomEvent.TrackSubscribed, mine((track, _publication, participant) => this.onTrack(track, participant)))
      .on(RoomEvent.TrackUnsubscribed, mine((track) => this.tracks.delete(track)))
      .on(RoomEvent.ParticipantConnected, mine((participant) => this.catchUp(participant)))
      // The interviewer's state may reach its attributes after this page joined.
      .on(RoomEvent.ParticipantAttributesChanged, mine((_changed, participant) => this.catchUp(participant)))
      .on(RoomEvent.Reconnecting, mine(() => {
        this.watch.peerState = "reconnecting";
        this.setState("reconnecting");
      }))
      .on(RoomEvent.Reconnected, mine(() => {
        this.watch.peerState = "connected";
        this.setState(this.watch.videoFrames > 0 ? "watching" : "waiting");
      }))
      .on(RoomEvent.Disconnected, mine(() => {
        // Removed (access withdrawn), the room deleted (the interview ended), or the network:
        // the share link says which.
        this.room = null;
        this.watch.peerState = "closed";
        this.silence();
        this.tracks.clear();
        this.retryJoin();
      }));
  }

  /** The interviewer's state kept in its attributes: the current question for a coach who joins late. */
  catchUp(participant) {
    if (!isInterviewer(participant)) return;
    for (const event of stateEvents(participant)) {
      if (this.seen.fromAttributes(event)) this.onEvent(event);
    }
  }

  onTrack(track, participant) {
    if (this.tracks.has(track)) return;
    const stream = new MediaStream([track.mediaStreamTrack]);
    if (track.kind === Track.Kind.Video) {
      if (roleOf(participant) !== "candidate") return;
      this.tracks.add(track);
      this.ui.video(stream);
    } else if (track.kind === Track.Kind.Audio) {
      this.tracks.add(track);
      this.play(stream, isInterviewer(participant) ? "interviewer" : "candidate");
    }
  }

  disconnect() {
    const room = this.room;
    this.room = null;
    this.tracks.clear();
    if (room) room.disconnect();
  }
}
