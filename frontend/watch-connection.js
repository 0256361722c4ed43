// A coach's receive-only connection to a session's room, whichever server holds it: play the
// interviewer and the candidate, show the candidate's camera, pass room events and live signals
// to the page, and stop for good when access ends. WatchConnection is what the page talks to;
// EmbeddedWatch is the embedded room server (a signalling socket, a receive-only offer, and the
// live signals feed beside it), LiveKitWatch (watch-livekit.js) a LiveKit server, joined hidden.
// openWatchConnection picks one by the join's transport.

import { meterStream } from "./media.js";
import { gatheredOffer, socketUrl } from "./rtc.js";

/** State the watch page exposes for people and for the browser tests. */
export const greenroom = (window.greenroom = window.greenroom || {});

const MAX_RECONNECTS = 10;
// Re-offer while no candidate video arrives: the room adds the candidate's tracks to a coach's
// peer only when it negotiates, so a coach who came before the candidate asks again.
const RENEGOTIATE_AFTER_MS = 4000;
// The close code of a socket whose access ended (share revoked or expired, interview deleted).
const ACCESS_ENDED_CLOSE = 4410;
// room_closed reasons that mean the interview is gone, not merely over.
const DELETED = new Set(["session_deleted", "account_deleted"]);

/** Why a share link stopped working, from the watch route's 410 answer. */
function goneReason(err) {
  if (/expired/.test(err.detail || "")) return "share_expired";
  if (/revoked/.test(err.detail || "")) return "share_revoked";
  return "session_deleted";
}

/** Starts a fresh record for a new watch (the tests read it). */
export function resetWatch(sessionId) {
  greenroom.watch = {
    state: "idle",
    sessionId,
    transport: null,
    events: [],
    captions: [],
    questions: [],
    nudges: [],
    summary: null,
    audio: { maxRms: 0, loudFrames: 0, interviewer: { maxRms: 0 }, candidate: { maxRms: 0 } },
    videoFrames: 0,
    peerState: "new",
    accessEnded: null, // why access ended, once it has
  };
  return greenroom.watch;
}

/**
 * One coach's view of one room, for any transport. `rejoin()` fetches a fresh coach join (null
 * once the interview has ended). `ui` gets: state(state), caption(speaker, text, final, personaName),
 * question(msg), nudge(msg), summary(msg), agentState(state), video(stream), audioBlocked(),
 * ended(reason), accessEnded(reason), error(message). A transport implements connect() and
 * disconnect(), and hands the room's events to onEvent and its media to ui.video and play.
 */
export class WatchConnection {
  constructor({ join, rejoin, ui }) {
    this.join = join;
    this.rejoin = rejoin;
    this.ui = ui;
    this.watch = greenroom.watch;
    this.watch.transport = join.transport || "embedded";
    this.closing = false;
    this.reconnectAttempts = 0;
    this.audioContext = null;
    this.audioElements = [];
  }

  setState(state) {
    this.watch.state = state;
    this.ui.state(state);
  }

  showNudge(msg) {
    const last = this.watch.nudges[this.watch.nudges.length - 1];
    if (last && last.message === msg.message && last.kind === msg.kind) return; // room and feed both send it
    this.watch.nudges.push(msg);
    this.ui.nudge(msg);
  }

  showSummary(msg) {
    this.watch.summary = msg;
    this.ui.summary(msg);
  }

  async scheduleReconnect() {
    if (this.closing) return;
    if (this.reconnectAttempts >= MAX_RECONNECTS) {
      this.setState("lost");
      this.ui.error("The connection to the interview was lost. Reload the page to try again.");
      return;
    }
    this.reconnectAttempts += 1;
    this.setState("reconnecting");
    await new Promise((r) => setTimeout(r, Math.min(500 * this.reconnectAttempts, 3000)));
    await this.retryJoin();
  }

  /** Asks the share link again: a fresh join, the interview's end, or why access ended. */
  async retryJoin() {
    if (this.closing) return;
    try {
      const join = await this.rejoin();
      if (join === null) return this.finish("completed");
      this.join = join;
      this.connect();
    } catch (err) {
      if (err.status === 410) return this.endAccess(goneReason(err));
      this.setState("lost");
      this.ui.error(err.message);
    }
  }

  /** Counts decoded candidate frames (the page's video element calls this). */
  frameShown() {
    this.watch.videoFrames += 1;
    if (this.watch.state === "waiting") this.setState("watching");
  }

  /** Plays a voice through its own element and measures it (read by the tests). */
  play(stream, who) {
    const audio = new Audio();
    audio.autoplay = true;
    audio.srcObject = stream;
    audio.play().catch(() => this.ui.audioBlocked());
    this.audioElements.push(audio);
    if (!this.audioContext) this.audioContext = new AudioContext();
    meterStream(stream, (rms) => {
      if (this.closing || streamEnded(stream)) return false;
      const audioState = this.watch.audio;
      audioState[who].maxRms = Math.max(audioState[who].maxRms, rms);
      audioState.maxRms = Math.max(audioState.maxRms, rms);
      if (rms > 0.01) audioState.loudFrames += 1;
    }, { context: this.audioContext });
  }

  /** Stops every voice (a new connection brings its own). */
  silence() {
    for (const audio of this.audioElements) audio.srcObject = null;
    this.audioElements = [];
  }

  /** Resumes sound after a click, where the browser blocked autoplay. */
  unblockAudio() {
    if (this.audioContext) this.audioContext.resume();
    for (const audio of this.audioElements) audio.play().catch(() => {});
  }

  /** One room event, the same JSON on every transport (agent/events.py). */
  onEvent(msg) {
    this.watch.events.push(msg);
    switch (msg.type) {
      case "caption":
        if (msg.final) this.watch.captions.push({ speaker: msg.speaker, text: msg.text, persona: msg.persona });
        this.ui.caption(msg.speaker, msg.text, msg.final, msg.persona_name);
        break;
      case "question":
        this.watch.questions.push(msg);
        this.ui.question(msg);
        break;
      case "agent_state":
        this.ui.agentState(msg.state);
        break;
      case "nudge":
        this.showNudge(msg);
        break;
      case "interviewer_yielded":
        this.ui.withdrawn();
        break;
      case "room_closed":
        if (DELETED.has(msg.reason)) this.endAccess(msg.reason);
        else this.finish(msg.reason);
        break;
      case "access_ended":
        this.endAccess(msg.reason);
        break;
    }
  }

  finish(reason) {
    if (this.watch.state === "ended" || this.watch.state === "access_ended") return;
    this.close();
    this.setState("ended");
    this.ui.ended(reason);
  }

  /** Access was withdrawn: stop all media, say why, and never reconnect. */
  endAccess(reason) {
    if (reason === "session_ended") return this.finish("completed");
    if (this.watch.state === "ended" || this.watch.state === "access_ended") return;
    this.close();
    this.watch.accessEnded = reason;
    this.setState("access_ended");
    this.ui.accessEnded(reason);
  }

  /** Lets go of everything: the transport and the sound. */
  close() {
    this.closing = true;
    this.disconnect();
    this.watch.peerState = "closed";
    for (const audio of this.audioElements) audio.srcObject = null;
    if (this.audioContext) this.audioContext.close();
    this.audioContext = null;
  }

  /** Joins (or joins again) with this.join. */
  connect() {
    throw new Error("a transport implements connect()");
  }

  /** Leaves the room. */
  disconnect() {}
}

/** The embedded room server: a receive-only offer on the signalling socket, and the live feed. */
export class EmbeddedWatch extends WatchConnection {
  constructor(options) {
    super(options);
    this.socket = null;
    this.feed = null;
    this.pc = null;
    this.watchdog = null;
    this.lastFrames = 0;
    this.iceServers = [];
  }

  connect() {
    this.setState(this.reconnectAttempts > 0 ? "reconnecting" : "connecting");
    const socket = (this.socket = new WebSocket(socketUrl(this.join.signal_url)));
    socket.onopen = () => socket.send(JSON.stringify({ type: "join", token: this.join.token }));
    socket.onmessage = (ev) => this.onSignal(JSON.parse(ev.data));
    socket.onclose = (ev) => {
      if (socket !== this.socket || this.closing) return;
      if (ev.code === ACCESS_ENDED_CLOSE) return this.endAccess(ev.reason);
      if (ev.code === 4401 || ev.code === 4403) {
        this.retryJoin(); // refused: the token aged out or the interview ended
        return;
      }
      this.scheduleReconnect();
    };
    this.openFeed();
  }

  /** The live signals feed (summaries and nudges), authenticated with the coach's room token. */
  openFeed() {
    if (this.feed) this.feed.close();
    const feed = (this.feed = new WebSocket(socketUrl(`/v1/sessions/${this.join.session_id}/signals/live`)));
    feed.onopen = () => feed.send(JSON.stringify({ type: "auth", token: this.join.token }));
    feed.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.type === "summary") {
        this.showSummary(msg);
      } else if (msg.type === "nudge") {
        this.showNudge(msg);
      } else if (msg.type === "access_ended") {
        this.endAccess(msg.reason);
      }
    };
    feed.onclose = (ev) => {
      if (ev.code === ACCESS_ENDED_CLOSE && !this.closing) this.endAccess(ev.reason);
    };
  }

  async negotiate(iceServers) {
    if (this.pc) this.pc.close();
    this.silence();
    const pc = (this.pc = new RTCPeerConnection({ iceServers }));
    // The room sends the interviewer's voice first, then the candidate's microphone and camera.
    const voices = [pc.addTransceiver("audio", { direction: "recvonly" }), pc.addTransceiver("audio", { direction: "recvonly" })];
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.ontrack = (ev) => {
      const stream = new MediaStream([ev.track]);
      if (ev.track.kind === "video") this.ui.video(stream);
      else this.play(stream, voices[0] === ev.transceiver ? "interviewer" : "candidate");
    };
    pc.onconnectionstatechange = () => {
      if (pc !== this.pc) return;
      this.watch.peerState = pc.connectionState;
      if (pc.connectionState === "connected") {
        this.reconnectAttempts = 0;
        this.setState(this.watch.videoFrames > 0 ? "watching" : "waiting");
      } else if (pc.connectionState === "failed") {
        this.scheduleReconnect();
      }
    };
    const sdp = await gatheredOffer(pc);
    this.socket.send(JSON.stringify({ type: "offer", sdp }));
    this.startWatchdog();
  }

  /** Renegotiates while the candidate's video is not arriving (they have not joined yet). */
  startWatchdog() {
    clearInterval(this.watchdog);
    this.lastFrames = this.watch.videoFrames;
    this.watchdog = setInterval(() => {
      if (this.closing || !this.pc) return;
      const frames = this.watch.videoFrames;
      if (frames > this.lastFrames) {
        this.lastFrames = frames;
        if (this.watch.state === "waiting") this.setState("watching");
        return;
      }
      if (this.pc.connectionState === "connected") {
        this.setState("waiting");
        this.negotiate(this.iceServers);
      }
    }, RENEGOTIATE_AFTER_MS);
  }

  async onSignal(msg) {
    if (msg.type === "joined") {
      this.watch.events.push(msg);
      this.iceServers = msg.ice_servers || [];
      await this.negotiate(this.iceServers);
    } else if (msg.type === "answer") {
      this.watch.events.push(msg);
      await this.pc.setRemoteDescription({ type: "answer", sdp: msg.sdp });
    } else {
      this.onEvent(msg);
    }
  }

  disconnect() {
    clearInterval(this.watchdog);
    if (this.pc) this.pc.close();
    if (this.socket) this.socket.close();
    if (this.feed) this.feed.close();
  }
}

/** The connection for a join answer's transport: LiveKit's client is loaded only when used. */
export async function openWatchConnection(options) {
  if (options.join.transport === "livekit") {
    const { LiveKitWatch } = await import("./watch-livekit.js");
    return new LiveKitWatch(options);
  }
  return new EmbeddedWatch(options);
}

function streamEnded(stream) {
  return stream.getTracks().every((t) => t.readyState === "ended");
}
