// The interview room, whichever server holds it: join with a room token, send the camera and
// microphone, play the interviewer, pass room events (captions, questions, agent state, nudges,
// who is watching) to the page, reconnect when the connection drops. RoomConnection is what the
// page talks to; EmbeddedConnection is the embedded room server (a signalling WebSocket and a
// peer connection), LiveKitConnection (room-livekit.js) a LiveKit server. openRoomConnection
// picks one by the join's transport.

import { post } from "./api.js";
import { meterStream } from "./media.js";
import { gatheredOffer, socketUrl } from "./rtc.js";

/** State the page exposes for people (status line) and for the browser tests. */
export const greenroom = (window.greenroom = window.greenroom || {});

/** Starts a fresh record for a new session (the tests read it). */
export function resetGreenroom(sessionId) {
  Object.assign(greenroom, {
    state: "idle",
    sessionId,
    transport: null,
    events: [],
    // Spans [start, end] (performance.now() ms) of the interviewer's voice as played and of
    // the candidate's own microphone: the tests check that one never starts inside the other.
    audio: { maxRms: 0, loudFrames: 0, spans: [] },
    mic: { spans: [] },
    questions: [],
    nudges: [],
    watchers: [],
  });
}

const MAX_RECONNECTS = 10;
const SPEAKING_RMS = 0.01;

/** Opens a span when sound starts, closes it when it stops. */
function markSpan(spans, on) {
  const now = performance.now();
  if (on) spans.push([now, null]);
  else if (spans.length && spans[spans.length - 1][1] === null) spans[spans.length - 1][1] = now;
}

/**
 * One candidate's connection to one session's room, for any transport. `ui` gets:
 * state(state, text), caption(speaker, text, final, personaName), question(msg), agentState(state),
 * nudge(msg), watchers(names), speaking(bool), withdrawn(), ended(reason), error(message),
 * lost(message). A transport implements connect() and disconnect(), and hands the room's
 * events to onEvent and the interviewer's voice to meterInterviewer.
 */
export class RoomConnection {
  constructor({ sessionId, join, localStream, ui, audioElement }) {
    this.sessionId = sessionId;
    this.join = join;
    this.localStream = localStream;
    this.ui = ui;
    this.audioElement = audioElement;
    this.ending = false;
    this.reconnectAttempts = 0;
    this.reconnecting = false;
    this.meter = null;
    this.micMeter = null;
    greenroom.receivedAudio = async () => ({ energy: 0, seconds: 0, packets: 0 });
  }

  setState(state, text) {
    greenroom.state = state;
    this.ui.state(state, text);
  }

  /** Tries again for a while after the connection drops; then gives up as lost. */
  async scheduleReconnect() {
    // A transport may report one outage more than once: one retry loop at a time.
    if (this.ending || this.reconnecting || greenroom.state === "lost") return;
    this.reconnecting = true;
    try {
      while (this.reconnectAttempts < MAX_RECONNECTS) {
        this.reconnectAttempts += 1;
        this.setState("reconnecting", "Reconnecting…");
        await new Promise((r) => setTimeout(r, Math.min(500 * this.reconnectAttempts, 3000)));
        if (this.ending) return;
        try {
          this.join = await post(`/v1/sessions/${this.sessionId}/token`, { role: "candidate" });
        } catch (err) {
          // Unreachable (status 0) or a server error: try again; a refusal (ended, signed out) is final.
          if (err.status === 0 || err.status >= 500) continue;
          this.lose(err.message);
          return;
        }
        this.connect();
        return;
      }
      this.lose("The interview room could not be reached. Check your network, then rejoin; your answers so far are saved.");
    } finally {
      this.reconnecting = false;
    }
  }

  /** The room refused the token: no retry. */
  refused(message) {
    this.setState("error", "Could not join the room");
    this.ui.error(message || "The room refused this join.");
  }

  /** Gives up on this connection (the camera stays on, for a rejoin). */
  lose(message) {
    this.disconnect();
    this.setState("lost", "Connection lost");
    this.ui.lost(message);
  }

  /** The candidate asks to try again after the connection was lost. */
  rejoin() {
    if (greenroom.state !== "lost") return;
    this.reconnectAttempts = 0;
    this.setState("reconnecting", "Reconnecting…");
    this.scheduleReconnect();
  }

  /** Measures the interviewer's voice as it plays (the speaking ring; read by the tests). */
  meterInterviewer(stream) {
    if (this.meter) this.meter.stop();
    let speaking = false;
    this.meter = meterStream(stream, (rms) => {
      greenroom.audio.maxRms = Math.max(greenroom.audio.maxRms, rms);
      if (rms > SPEAKING_RMS) greenroom.audio.loudFrames += 1;
      if ((rms > SPEAKING_RMS) !== speaking) {
        speaking = rms > SPEAKING_RMS;
        this.ui.speaking(speaking);
        markSpan(greenroom.audio.spans, speaking);
      }
    });
    if (!this.micMeter && this.localStream.getAudioTracks().length) {
      let talking = false;
      this.micMeter = meterStream(new MediaStream(this.localStream.getAudioTracks()), (rms) => {
        if ((rms > SPEAKING_RMS) !== talking) {
          talking = rms > SPEAKING_RMS;
          markSpan(greenroom.mic.spans, talking);
        }
      });
    }
  }

  /** One room event, the same JSON on every transport (agent/events.py). */
  onEvent(msg) {
    greenroom.events.push(msg);
    switch (msg.type) {
      case "caption":
        this.ui.caption(msg.speaker, msg.text, msg.final, msg.persona_name);
        break;
      case "question":
        greenroom.questions.push(msg);
        this.ui.question(msg);
        break;
      case "agent_state":
        this.ui.agentState(msg.state);
        break;
      case "nudge":
        greenroom.nudges.push(msg);
        this.ui.nudge(msg);
        break;
      case "interviewer_yielded":
        this.ui.withdrawn();
        break;
      case "watchers":
        greenroom.watchers = msg.names || [];
        this.ui.watchers(greenroom.watchers);
        break;
      case "room_closed":
        this.finish(msg.reason);
        break;
      case "error":
        if (msg.code === "invalid_token" || msg.code === "refused") this.ui.error(msg.message);
        break;
    }
  }

  /** Mutes or unmutes the microphone; returns whether it is now muted. */
  toggleMute() {
    const track = this.localStream.getAudioTracks()[0];
    if (!track) return false;
    track.enabled = !track.enabled;
    return !track.enabled;
  }

  /** The candidate ends the interview: the server closes the room, then we leave. */
  async end() {
    this.ending = true;
    try {
      await post(`/v1/sessions/${this.sessionId}/end`);
    } finally {
      this.finish("ended_by_candidate");
    }
  }

  finish(reason) {
    if (greenroom.state === "ended") return;
    this.close();
    this.setState("ended", "Ended");
    this.ui.ended(reason);
  }

  /** Lets go of everything: the transport, the meters, camera and microphone. */
  close() {
    this.ending = true;
    this.disconnect();
    if (this.meter) this.meter.stop();
    if (this.micMeter) this.micMeter.stop();
    this.meter = this.micMeter = null;
    if (this.localStream) this.localStream.getTracks().forEach((t) => t.stop());
  }

  /** Joins (or joins again) with this.join. */
  connect() {
    throw new Error("a transport implements connect()");
  }

  /** Leaves the room, keeping the camera and microphone. */
  disconnect() {}
}

/** The embedded room server: a signalling WebSocket and one peer connection to it. */
export class EmbeddedConnection extends RoomConnection {
  constructor(options) {
    super(options);
    this.socket = null;
    this.pc = null;
  }

  connect() {
    const again = this.reconnectAttempts > 0;
    this.setState(again ? "reconnecting" : "connecting", again ? "Reconnecting…" : "Connecting…");
    const socket = (this.socket = new WebSocket(socketUrl(this.join.signal_url)));
    socket.onopen = () => socket.send(JSON.stringify({ type: "join", token: this.join.token }));
    socket.onmessage = (ev) => this.onSignal(JSON.parse(ev.data));
    socket.onclose = (ev) => {
      if (socket !== this.socket || this.ending || greenroom.state === "ended") return;
      if (ev.code === 4401 || ev.code === 4403) {
        this.refused(ev.reason);
        return;
      }
      this.scheduleReconnect();
    };
  }

  disconnect() {
    if (this.pc) this.pc.close();
    this.pc = null;
    if (this.socket) this.socket.close();
    this.socket = null;
  }

  async negotiate(iceServers) {
    if (this.pc) this.pc.close();
    const pc = (this.pc = new RTCPeerConnection({ iceServers }));
    for (const track of this.localStream.getTracks()) {
      const sender = pc.addTrack(track, this.localStream);
      if (track.kind === "video") {
        pc.getTransceivers().find((t) => t.sender === sender).direction = "sendonly";
      }
    }
    // What has arrived of the interviewer's voice, from WebRTC's own receive statistics: it
    // does not depend on the page painting frames, as the level meter does (read by the tests).
    greenroom.receivedAudio = async () => {
      const stats = pc.connectionState === "closed" ? new Map() : await pc.getStats();
      for (const s of stats.values()) {
        if (s.type === "inbound-rtp" && s.kind === "audio") {
          return { energy: s.totalAudioEnergy || 0, seconds: s.totalSamplesDuration || 0, packets: s.packetsReceived || 0 };
        }
      }
      return { energy: 0, seconds: 0, packets: 0 };
    };
    pc.ontrack = (ev) => {
      if (ev.track.kind !== "audio") return;
      const stream = new MediaStream([ev.track]);
      if (this.audioElement) this.audioElement.srcObject = stream;
      this.meterInterviewer(stream);
    };
    pc.onconnectionstatechange = () => {
      if (pc !== this.pc) return;
      if (pc.connectionState === "connected") {
        this.reconnectAttempts = 0;
        this.setState("live", "Live");
      } else if (pc.connectionState === "failed") {
        this.scheduleReconnect();
      } else if (pc.connectionState === "disconnected" && greenroom.state === "live") {
        this.setState("reconnecting", "Connection unstable…");
      }
    };
    const sdp = await gatheredOffer(pc);
    if (pc !== this.pc) return; // given up or replaced while gathering
    this.socket.send(JSON.stringify({ type: "offer", sdp }));
  }

  async onSignal(msg) {
    if (msg.type === "joined") {
      greenroom.events.push(msg);
      await this.negotiate(msg.ice_servers || []);
    } else if (msg.type === "answer") {
      greenroom.events.push(msg);
      if (this.pc) await this.pc.setRemoteDescription({ type: "answer", sdp: msg.sdp });
    } else {
      this.onEvent(msg);
    }
  }
}

/** The connection for a join answer's transport: LiveKit's client is loaded only when used. */
export async function openRoomConnection(options) {
  greenroom.transport = options.join.transport || "embedded";
  if (greenroom.transport === "livekit") {
    const { LiveKitConnection } = await import("./room-livekit.js");
    return new LiveKitConnection(options);
  }
  return new EmbeddedConnection(options);
}
