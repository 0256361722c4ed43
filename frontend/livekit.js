// What the candidate's and a coach's LiveKit connections share: livekit-client (vendored from npm
// by `make setup`), the room's data topics and attributes (media/livekit_io.py), and reading them.

import { ParticipantKind } from "./vendor/livekit-client.esm.js";

export {
  ConnectionError,
  ConnectionErrorReason,
  DisconnectReason,
  Room,
  RoomEvent,
  Track,
} from "./vendor/livekit-client.esm.js";

/** Room events, as reliable data messages: the JSON the embedded room sends on its socket. */
export const EVENTS_TOPIC = "greenroom.events";
/** Live delivery summaries, a few times a second (lossy). */
export const SIGNALS_TOPIC = "greenroom.signals";
const ROLE_ATTRIBUTE = "greenroom.role";
// The interviewer's attributes holding the latest state event of each kind, for who joins late.
const STATE_ATTRIBUTES = ["greenroom.question", "greenroom.agent_state"];

/** The room role a participant's token gave it (candidate, coach, agent, consumer). */
export function roleOf(participant) {
  return (participant && participant.attributes && participant.attributes[ROLE_ATTRIBUTE]) || null;
}

/** Whether a participant is the interviewer (its role attribute, or LiveKit's agent kind). */
export function isInterviewer(participant) {
  return roleOf(participant) === "agent" || (participant && participant.kind === ParticipantKind.AGENT);
}

/** A data message as the event it carries, or null when it is not JSON. */
export function decodeEvent(payload) {
  try {
    return JSON.parse(new TextDecoder().decode(payload));
  } catch (_) {
    return null;
  }
}

/** The state events (current question, agent state) kept in the interviewer's attributes. */
export function stateEvents(participant) {
  const events = [];
  for (const name of STATE_ATTRIBUTES) {
    const raw = participant.attributes && participant.attributes[name];
    if (!raw) continue;
    try {
      events.push(JSON.parse(raw));
    } catch (_) { /* not ours to read */ }
  }
  return events;
}

/**
 * The latest state event of each kind, and whether it was read from the interviewer's attributes:
 * one read there on joining is not shown again when the interviewer also sends it as a data
 * message; a data message repeated (a question asked again) is shown, as on the embedded room.
 */
export class StateSeen {
  constructor() {
    this.latest = new Map(); // type -> [JSON text, read from the attributes]
  }

  /** Whether an event read from the attributes is news to the page. */
  fromAttributes(event) {
    if (!isStateEvent(event)) return false;
    const text = JSON.stringify(event);
    const last = this.latest.get(event.type);
    if (last && last[0] === text) return false;
    this.latest.set(event.type, [text, true]);
    return true;
  }

  /** Whether a data message is news to the page. */
  fromData(event) {
    if (!isStateEvent(event)) return true;
    const text = JSON.stringify(event);
    const last = this.latest.get(event.type);
    this.latest.set(event.type, [text, false]);
    return !(last && last[1] && last[0] === text);
  }
}

function isStateEvent(event) {
  return Boolean(event) && (event.type === "question" || event.type === "agent_state");
}

/** What has arrived of a remote audio track, from its receiver's statistics (inbound-rtp). */
export async function receivedAudio(track) {
  const report = track ? await track.getRTCStatsReport().catch(() => undefined) : undefined;
  if (report) {
    for (const s of report.values()) {
      if (s.type === "inbound-rtp" && s.kind === "audio") {
        return { energy: s.totalAudioEnergy || 0, seconds: s.totalSamplesDuration || 0, packets: s.packetsReceived || 0 };
      }
    }
  }
  return { energy: 0, seconds: 0, packets: 0 };
}

/** A LiveKit room for Greenroom's pages: no adaptive stream or dynacast (one publisher, small rooms). */
export function roomOptions(extra = {}) {
  return { adaptiveStream: false, dynacast: false, disconnectOnPageLeave: true, ...extra };
}
