// A coach watches a live interview from a link the candidate shared, without signing in: the
// candidate's camera, both voices, live captions, the current question, and live delivery
// signals; when the interview ends, a link to the read-only report. watchPage is the view itself,
// shared with a signed-in coach's watch (coach-watch.js).

import { ApiError, post } from "../api.js";
import { AGENT_STATES, captionsBox, questionLabel } from "../captions.js";
import { announce, h } from "../ui.js";
import { openWatchConnection, resetWatch } from "../watch-connection.js";
import { linkProblem } from "./shared.js";

const NOT_STARTED_RETRY_MS = 4000;
const NUDGE_SHOWN_MS = 8000;
const STATE_NOTES = {
  idle: ["info", "Opening the interview…"],
  connecting: ["info", "Connecting to the interview…"],
  waiting: ["info", "The interview hasn't started yet — waiting for the candidate to join. This page checks every few seconds."],
  watching: null,
  reconnecting: ["warning", "Connection interrupted — reconnecting…"],
  lost: ["danger", "Connection lost."],
  ended: null,
  access_ended: null,
};
// Why a coach can no longer watch, by the reason the server gives.
const ACCESS_ENDED = {
  share_revoked: "The candidate stopped sharing this interview.",
  share_expired: "This share link has expired.",
  session_deleted: "This interview was deleted.",
  account_deleted: "This interview was deleted.",
};

/** A POST to a watch route: the coach's join, or null when the interview has ended. */
export async function requestJoin(path) {
  try {
    return await post(path);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) return null;
    throw err;
  }
}

/** The live delivery summary as a few plain lines (what the candidate's nudges are based on). */
function summaryLines(msg) {
  const lines = [];
  if (msg.wpm != null) lines.push(["Pace", `${msg.wpm} words/min`]);
  if (msg.fillers != null) lines.push(["Fillers", `${msg.fillers}${msg.fillers_per_100_words != null ? ` (${msg.fillers_per_100_words} per 100 words)` : ""}`]);
  if (msg.face_present != null) lines.push(["Face in view", msg.face_present ? "yes" : "no"]);
  if (msg.gaze_on_camera != null) lines.push(["Looking at camera", `${Math.round(msg.gaze_on_camera * 100)}%`]);
  if (msg.loudness_dbfs != null) lines.push(["Loudness", `${msg.loudness_dbfs} dBFS`]);
  return lines;
}

export async function render(root, ctx) {
  const token = ctx.params[0];
  await watchPage(root, ctx, {
    join: () => requestJoin(`/v1/shared/${token}/watch`),
    reportHref: `#/shared/${token}`,
    comeBack: "Ask the candidate for a new link if they want you back.",
    linkProblem,
  });
}

/**
 * The watch view, however the coach got in. `join()` asks for a coach join (null once the
 * interview has ended); `reportHref` is where the report is read afterwards; `comeBack` says how
 * to get access again; `linkProblem(err)` words a refused join; `side` (optional) is put under
 * the live view (the notes of a signed-in coach); `onSummary(msg)` sees each live summary;
 * `lede` says what the candidate can see of the coach.
 */
export async function watchPage(root, ctx, { join: askJoin, reportHref, comeBack, linkProblem: problem, side = null, onSummary = null,
  lede = "You are watching and listening only: the candidate cannot see or hear you." }) {
  const watch = resetWatch(null);
  let connection = null;
  let retry = null;
  ctx.onLeave(() => {
    clearTimeout(retry);
    if (connection) connection.close();
  });

  const stateNote = h("div", { id: "watch-state", class: "callout info", role: "status", "aria-live": "polite" }, STATE_NOTES.idle[1]);
  const video = h("video", { id: "candidate-video", autoplay: true, muted: true, playsinline: true, "aria-label": "The candidate's camera" });
  const videoBox = h("div", { class: "watch-video" }, video, h("p", { class: "video-placeholder muted", id: "video-placeholder" }, "The candidate's camera appears here."));
  const agentState = h("span", { id: "watch-agent-state", class: "agent-state" }, "—");
  const interviewer = h("p", { class: "watch-interviewer" }, h("span", { class: "speaking-dot", "aria-hidden": "true" }), "Interviewer: ", agentState);
  const progress = h("span", { id: "question-progress", class: "question-progress" });
  const questionText = h("span", { id: "question-text" }, "The interviewer's question will appear here.");
  const questionBox = h("section", { id: "question", class: "question", "aria-live": "polite", "aria-label": "Current question" }, progress, " ", questionText);
  const nudge = h("p", { id: "nudge", class: "nudge", role: "status", "aria-live": "polite", hidden: true });
  const summary = h("dl", { id: "live-summary", class: "live-summary" }, h("dt", {}, "Signals"), h("dd", { class: "muted" }, "None yet. They appear when the candidate has chosen to have their delivery analysed."));
  const captions = captionsBox({
    labels: { interviewer: "Interviewer: ", candidate: "Candidate: " },
    placeholder: "Captions appear here as the candidate and the interviewer speak.",
  });
  const sound = h("button", { type: "button", id: "enable-sound", hidden: true }, "Turn on sound");
  const error = h("div", { id: "error", class: "callout danger", role: "alert", hidden: true });
  const done = h("section", { id: "watch-ended", class: "card", hidden: true, "aria-labelledby": "ended-title" });

  const live = h("div", { class: "room watch", id: "watch" },
    h("div", { class: "page-head" }, h("div", {},
      h("h1", {}, "Watching a mock interview"),
      h("p", { class: "lede" }, lede))),
    stateNote,
    sound,
    h("div", { class: "stage" },
      videoBox,
      h("section", { class: "card watch-side", "aria-labelledby": "signals-title" },
        h("h2", { id: "signals-title" }, "Live signals"),
        interviewer,
        summary,
        nudge)),
    questionBox,
    h("h2", { class: "visually-hidden" }, "Live captions"),
    captions,
    side,
    error);
  root.append(live, done);

  const showError = (message) => {
    error.replaceChildren(h("p", {}, message));
    error.hidden = false;
  };

  const showEnded = () => {
    watch.state = "ended";
    live.hidden = true;
    done.replaceChildren(
      h("h1", { id: "ended-title", tabindex: "-1" }, "The interview has ended"),
      h("p", {}, "Thanks for watching. The candidate's report is ready to read (it may take a moment to finish scoring)."),
      h("div", { class: "actions" }, h("a", { class: "button", id: "shared-report-link", href: reportHref }, "Read the report")));
    done.hidden = false;
    done.querySelector("h1").focus();
    announce("The interview has ended.");
  };

  const showAccessEnded = (reason) => {
    video.srcObject = null;
    live.hidden = true;
    done.replaceChildren(
      h("h1", { id: "ended-title", tabindex: "-1" }, "Access to this interview has ended"),
      h("p", { id: "access-ended-reason" }, ACCESS_ENDED[reason] || ACCESS_ENDED.share_revoked),
      h("p", { class: "muted" }, `You are no longer watching or listening. ${comeBack}`));
    done.hidden = false;
    done.querySelector("h1").focus();
    announce(`Access to this interview has ended. ${ACCESS_ENDED[reason] || ""}`);
  };

  const ui = {
    state(state) {
      const note = STATE_NOTES[state];
      if (note) {
        stateNote.className = `callout ${note[0]}`;
        stateNote.textContent = note[1];
        stateNote.hidden = false;
      } else {
        stateNote.hidden = true;
      }
      if (state === "watching") announce("Watching live.");
    },
    caption: (speaker, text, final, personaName) => captions.add(speaker, text, final, personaName),
    withdrawn: () => captions.withdraw("interviewer"),
    agentState(state) {
      agentState.textContent = AGENT_STATES[state] || state;
      interviewer.classList.toggle("speaking", state === "speaking");
    },
    question(msg) {
      progress.textContent = questionLabel(msg, true);
      questionText.textContent = msg.text;
    },
    nudge(msg) {
      nudge.textContent = `Nudge shown to the candidate: ${msg.message}`;
      nudge.hidden = false;
      clearTimeout(nudge.hideTimer);
      nudge.hideTimer = setTimeout(() => { nudge.hidden = true; }, NUDGE_SHOWN_MS);
    },
    summary(msg) {
      if (onSummary) onSummary(msg);
      const lines = summaryLines(msg);
      if (lines.length) summary.replaceChildren(...lines.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
    },
    video(stream) {
      video.srcObject = stream;
      videoBox.classList.add("has-video");
      const count = () => {
        if (video.srcObject !== stream) return;
        connection.frameShown();
        video.requestVideoFrameCallback(count);
      };
      if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(count);
      else video.addEventListener("timeupdate", () => connection.frameShown());
    },
    audioBlocked() {
      sound.hidden = false;
    },
    ended: showEnded,
    accessEnded: showAccessEnded,
    error: showError,
  };
  sound.addEventListener("click", () => {
    if (!connection) return;
    connection.unblockAudio();
    sound.hidden = true;
  });

  // Join as a coach; an interview not open yet is retried, an ended one links to the report.
  const start = async () => {
    let join;
    try {
      join = await askJoin();
    } catch (err) {
      if (!ctx.isCurrent()) return;
      if (err.status === 0 || err.status >= 500) {
        stateNote.textContent = "Could not reach Greenroom — trying again in a few seconds.";
        retry = setTimeout(start, NOT_STARTED_RETRY_MS);
        return;
      }
      watch.state = "invalid";
      stateNote.hidden = true;
      showError(problem(err));
      return;
    }
    if (!ctx.isCurrent()) return;
    if (join === null) return showEnded();
    watch.sessionId = join.session_id;
    const opened = await openWatchConnection({ join, rejoin: askJoin, ui });
    if (!ctx.isCurrent()) return;
    connection = opened;
    connection.connect();
  };
  await start();
}
