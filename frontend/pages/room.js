// The live interview room: interviewer (speaking indicator), self view, the current question,
// live captions of both sides, timer, live nudges, mute and end, and the connection's state.

import { get, post } from "../api.js";
import { AGENT_STATES, captionsBox, questionLabel } from "../captions.js";
import { labelOf, loadCatalog } from "../catalog.js";
import { explainMediaError, openCamera, stopStream } from "../media.js";
import { greenroom, openRoomConnection, resetGreenroom } from "../room-connection.js";
import { sharingSection } from "../coach-shares.js";
import { announce, clock, formatDateTime, h } from "../ui.js";

const NUDGE_SHOWN_MS = 8000;
const STATE_NOTES = {
  connecting: ["info", "Connecting to your interviewer…"],
  reconnecting: ["warning", "Connection interrupted — reconnecting. Keep talking when it's back; your answers so far are saved."],
  live: null,
  lost: null, // the error callout says it, with the way forward
  error: ["danger", "Something went wrong with the interview room."],
  ended: null,
};

async function rejoinPanel(root, ctx, sessionId) {
  const session = await get(`/v1/sessions/${sessionId}`);
  if (!["scheduled", "live"].includes(session.status)) {
    ctx.navigate(`#/sessions/${sessionId}`);
    return null;
  }
  return new Promise((resolve) => {
    const error = h("div", { class: "callout danger", role: "alert", hidden: true });
    const button = h("button", { type: "button", id: "rejoin" }, "Rejoin interview");
    button.addEventListener("click", async () => {
      button.disabled = true;
      error.hidden = true;
      let stream;
      try {
        stream = await openCamera();
      } catch (err) {
        const why = explainMediaError(err);
        error.replaceChildren(h("h3", {}, why.title), h("ol", {}, why.steps.map((s) => h("li", {}, s))));
        error.hidden = false;
        button.disabled = false;
        return;
      }
      try {
        const join = await post(`/v1/sessions/${sessionId}/token`, { role: "candidate" });
        panel.remove();
        resolve({ sessionId, join, stream, session });
      } catch (err) {
        stopStream(stream);
        error.replaceChildren(h("p", {}, err.message));
        error.hidden = false;
        button.disabled = false;
      }
    });
    const panel = h("section", { class: "card" },
      h("h1", {}, "Rejoin your interview"),
      h("p", {}, "This interview is still open. Rejoin to carry on where you left off, or end it from the room."),
      error, button);
    root.append(panel);
  });
}

/** "Invite a coach": a share link, shown as a watch URL a coach can open without signing in. */
function invitePanel(sessionId, button) {
  const panel = h("section", { id: "invite", class: "card invite", hidden: true, "aria-labelledby": "invite-title" });
  const status = h("p", { class: "hint", role: "status", "aria-live": "polite" });
  button.addEventListener("click", async () => {
    if (!panel.hidden && panel.querySelector("input")) {
      panel.querySelector("input").select();
      return;
    }
    button.disabled = true;
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    panel.replaceChildren(h("h2", { id: "invite-title" }, "Invite a coach"), h("p", { class: "muted" }, "Making a link…"));
    try {
      const share = await post(`/v1/sessions/${sessionId}/share`);
      const url = `${location.origin}/#/watch/${share.token}`;
      const field = h("input", { id: "invite-url", type: "text", readonly: true, value: url, spellcheck: "false" });
      field.addEventListener("focus", () => field.select());
      const copy = h("button", { type: "button", id: "copy-invite" }, "Copy");
      copy.addEventListener("click", async () => {
        field.focus();
        field.select();
        try {
          await navigator.clipboard.writeText(url);
          status.textContent = "Link copied.";
        } catch (_) {
          status.textContent = "Copy is not available here: the link is selected, press Ctrl+C (⌘C) to copy it.";
        }
      });
      panel.replaceChildren(
        h("h2", { id: "invite-title" }, "Invite a coach"),
        h("label", { for: "invite-url" }, "Watch link"),
        h("div", { class: "copy-row" }, field, copy),
        status,
        h("p", { class: "hint" }, `Anyone with this link can watch and listen live, without signing in, then read your report. It works until ${formatDateTime(share.expires_at)}.`));
    } catch (err) {
      panel.replaceChildren(h("h2", { id: "invite-title" }, "Invite a coach"), h("p", { class: "error", role: "alert" }, `Could not make a link: ${err.message}`));
    } finally {
      button.disabled = false;
    }
  });
  return panel;
}

export async function render(root, ctx) {
  const sessionId = ctx.params[0];
  let handoff = ctx.app.handoff && ctx.app.handoff.sessionId === sessionId ? ctx.app.handoff : null;
  ctx.app.handoff = null;
  let connection = null;
  const timers = [];
  // Closing the tab mid-interview asks first (the interview stays open for a while to rejoin).
  const confirmUnload = (ev) => { ev.preventDefault(); ev.returnValue = ""; };
  ctx.onLeave(() => {
    window.removeEventListener("beforeunload", confirmUnload);
    timers.forEach((t) => clearInterval(t));
    if (connection) connection.close();
    else if (handoff) stopStream(handoff.stream);
  });
  if (!handoff) {
    handoff = await rejoinPanel(root, ctx, sessionId);
    if (!handoff || !ctx.isCurrent()) {
      if (handoff) stopStream(handoff.stream);
      return;
    }
  }
  resetGreenroom(sessionId);
  const catalog = await loadCatalog().catch(() => null);
  const session = handoff.session;
  const personaName = labelOf(catalog && catalog.personas, session.persona);
  const panel = (session.panel || []).length > 1;
  const persona = ((catalog && catalog.personas) || []).find((p) => p.id === session.persona);
  const durationS = session.duration_min * 60;

  const stateNote = h("div", { id: "room-state", class: "callout info", role: "status", "aria-live": "polite" }, "Connecting to your interviewer…");
  const agentState = h("span", { id: "agent-state", class: "agent-state" }, "Connecting…");
  const tile = h("div", { class: "tile interviewer", id: "interviewer-tile" },
    h("div", { class: "avatar", "aria-hidden": "true" }, h("span", {}, personaName.replace(/^Dr\.\s*/, "").slice(0, 1))),
    h("div", {},
      h("p", { class: "persona-name" }, h("strong", { id: "persona-name" }, personaName)),
      persona ? h("p", { class: "persona-title" }, persona.description) : null,
      h("p", {}, h("span", { class: "speaking-dot", "aria-hidden": "true" }), agentState)));
  const selfView = h("video", { id: "self-view", autoplay: true, muted: true, playsinline: true, "aria-label": "Your camera" });
  const progress = h("span", { id: "question-progress", class: "question-progress" });
  const questionText = h("span", { id: "question-text" }, "The interviewer will start in a moment.");
  const questionBox = h("section", { id: "question", class: "question", "aria-live": "polite", "aria-label": "Current question" }, progress, " ", questionText);
  const nudge = h("p", { id: "nudge", class: "nudge", role: "status", "aria-live": "polite", hidden: true });
  // Coaches watching through a share link (they are hidden in the room: the server says who).
  const watchers = h("p", { id: "watchers", class: "watchers", role: "status", "aria-live": "polite", hidden: true });
  const captions = captionsBox();
  const timer = h("span", { id: "timer", class: "timer", role: "timer", "aria-label": "Elapsed time" }, `00:00 / ${clock(durationS)}`);
  const mute = h("button", { type: "button", id: "mute", class: "secondary", "aria-pressed": "false" }, "Mute");
  const end = h("button", { type: "button", id: "end", class: "danger" }, "End interview");
  const inviteButton = h("button", { type: "button", id: "invite-coach", class: "secondary", "aria-controls": "invite", "aria-expanded": "false" }, "Invite a coach");
  const invite = invitePanel(sessionId, inviteButton);
  // The coaches with access to this interview (by account or organisation): share or stop here.
  const coachesButton = h("button", { type: "button", id: "coach-access-toggle", class: "secondary", "aria-controls": "coach-access", "aria-expanded": "false" }, "Coaches");
  const coachAccess = sharingSection({ sessionId, id: "coach-access", title: "Coaches with access", compact: true });
  coachAccess.hidden = true;
  coachesButton.addEventListener("click", () => {
    coachAccess.hidden = !coachAccess.hidden;
    coachesButton.setAttribute("aria-expanded", String(!coachAccess.hidden));
    if (!coachAccess.hidden) coachAccess.refresh();
  });
  const error = h("div", { id: "error", class: "callout danger", role: "alert", hidden: true });
  const audio = h("audio", { id: "interviewer-audio", autoplay: true });
  const done = h("section", { id: "done", class: "card", hidden: true, "aria-labelledby": "done-title" });

  const live = h("div", { class: "room", id: "room" },
    h("h1", { class: "visually-hidden" }, "Interview room"),
    stateNote,
    error,
    h("div", { class: "stage" }, tile, selfView),
    questionBox,
    nudge,
    watchers,
    h("h2", { class: "visually-hidden" }, "Live captions"),
    captions,
    h("div", { class: "controls" }, timer, inviteButton, coachesButton, mute, end),
    invite,
    coachAccess,
    audio);
  root.append(live, done);
  selfView.srcObject = handoff.stream;

  let startedAt = null;
  const tick = () => {
    if (startedAt === null) return;
    const elapsed = (Date.now() - startedAt) / 1000;
    timer.textContent = `${clock(elapsed)} / ${clock(durationS)}`;
    timer.classList.toggle("overtime", elapsed > durationS);
  };
  timers.push(setInterval(tick, 1000));

  // On a panel, the tile shows whichever interviewer is speaking.
  const showSpeaker = (name) => {
    const speaking = ((catalog && catalog.personas) || []).find((p) => p.name === name);
    tile.querySelector("#persona-name").textContent = name;
    tile.querySelector(".avatar span").textContent = name.replace(/^Dr\.\s*/, "").slice(0, 1);
    const title = tile.querySelector(".persona-title");
    if (title && speaking) title.textContent = speaking.description;
    tile.dataset.speaker = name;
  };

  const showError = (message) => {
    error.replaceChildren(h("p", {}, message));
    error.hidden = false;
  };

  const ui = {
    state(state, text) {
      const note = STATE_NOTES[state];
      if (state === "live" && startedAt === null) startedAt = Date.now();
      if (note) {
        stateNote.className = `callout ${note[0]}`;
        stateNote.textContent = note[1];
        stateNote.hidden = false;
      } else {
        stateNote.hidden = true;
      }
      // While the room is out of reach the interviewer's last state is stale.
      if (state === "reconnecting") agentState.textContent = "Connecting…";
      if (state === "lost") agentState.textContent = "Disconnected";
      if (state === "live" && ["Connecting…", "Disconnected"].includes(agentState.textContent)) agentState.textContent = "Getting ready…";
      announce(text);
    },
    caption(speaker, text, final, personaName) {
      const name = panel ? personaName : null;
      captions.add(speaker, text, final, name);
      if (name && speaker === "interviewer") showSpeaker(name);
    },
    withdrawn: () => captions.withdraw("interviewer"),
    question(msg) {
      progress.textContent = questionLabel(msg, panel);
      questionText.textContent = msg.text;
    },
    agentState(state) {
      agentState.textContent = AGENT_STATES[state] || state;
      tile.dataset.agentState = state;
    },
    speaking(on) {
      tile.classList.toggle("speaking", on);
    },
    watchers(names) {
      watchers.textContent = names.length ? `Watching: ${names.join(", ")}` : "";
      watchers.hidden = names.length === 0;
    },
    nudge(msg) {
      nudge.textContent = msg.message;
      nudge.hidden = false;
      clearTimeout(nudge.hideTimer);
      nudge.hideTimer = setTimeout(() => { nudge.hidden = true; }, NUDGE_SHOWN_MS);
    },
    ended(reason) {
      window.removeEventListener("beforeunload", confirmUnload);
      timers.forEach((t) => clearInterval(t));
      live.hidden = true;
      const normal = reason === "completed" || reason === "ended_by_candidate";
      done.replaceChildren(
        h("h1", { id: "done-title", tabindex: "-1" }, "Interview finished"),
        h("p", { id: "done-text" }, normal ? "Thank you — your interview is saved. Your report is being prepared…" : `The interview ended (${String(reason || "unknown reason").replace(/_/g, " ")}).`),
        h("div", { class: "actions" },
          h("a", { class: "button", href: `#/sessions/${sessionId}`, id: "see-report" }, "See your report"),
          h("a", { class: "button secondary", href: "#/" }, "Dashboard")));
      done.hidden = false;
      done.querySelector("h1").focus();
      if (normal) timers.push(setTimeout(() => { if (ctx.isCurrent()) ctx.navigate(`#/sessions/${sessionId}`); }, 1500));
    },
    error: showError,
    lost(message) {
      const rejoin = h("button", { type: "button", id: "rejoin-room" }, "Rejoin interview");
      rejoin.addEventListener("click", () => {
        error.hidden = true;
        connection.rejoin();
      });
      error.replaceChildren(
        h("p", {}, h("strong", {}, "Connection lost. "), message),
        h("div", { class: "actions" }, rejoin, h("a", { class: "button secondary", href: "#/" }, "Back to dashboard")));
      error.hidden = false;
      rejoin.focus();
    },
  };

  mute.addEventListener("click", () => {
    if (!connection) return;
    const muted = connection.toggleMute();
    mute.setAttribute("aria-pressed", String(muted));
    mute.textContent = muted ? "Unmute" : "Mute";
    announce(muted ? "Microphone muted" : "Microphone on");
  });
  end.addEventListener("click", async () => {
    if (!connection) return;
    end.disabled = true;
    end.textContent = "Ending…";
    try {
      await connection.end();
    } catch (err) {
      showError(`Could not end the interview cleanly: ${err.message}`);
    }
  });

  const opened = await openRoomConnection({ sessionId, join: handoff.join, localStream: handoff.stream, ui, audioElement: audio });
  if (!ctx.isCurrent()) return; // left while the transport loaded: onLeave stopped the camera
  connection = opened;
  greenroom.sessionId = sessionId;
  window.addEventListener("beforeunload", confirmUnload);
  connection.connect();
}
