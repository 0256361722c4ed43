// A signed-in coach watches an interview shared with them (POST /v1/sessions/{id}/watch): the
// same view as a share link's, with the coach's name shown to the candidate, and notes marked at
// the moment of the interview they are about.

import { ApiError, get, post } from "../api.js";
import { announce, clock, errorBox, h } from "../ui.js";
import { requestJoin, watchPage } from "./watch.js";

/** Why a signed-in coach cannot watch, in words. */
function accessProblem(err) {
  if (err.status === 404 || err.status === 410) return "You do not have access to this interview. The candidate may have stopped sharing it.";
  return err.message;
}

/** A note in the list of this coach's notes. */
function noteItem(note) {
  return h("li", { class: "note-row", dataset: { noteId: note.id, tMs: String(note.t_ms) } },
    h("span", { class: "moment-time" }, clock(note.t_ms / 1000)),
    h("span", {}, h("span", { class: "note-body" }, note.body), h("span", { class: "muted block small" }, note.author_name)));
}

/**
 * The notes panel: the session time now (from the live signals' clock when they flow, else from
 * the interview's start), a note field stamped with the moment its writing began, and the notes.
 */
function notesPanel(sessionId) {
  const state = { startedAt: null, anchor: null, markedAt: null };
  const body = h("textarea", { id: "note-body", rows: "3", maxlength: "2000", "aria-describedby": "note-moment" });
  const moment = h("p", { class: "hint", id: "note-moment" }, "The note is marked at the moment you start writing it.");
  const add = h("button", { type: "button", id: "note-add" }, "Note this moment");
  const error = errorBox("note-error");
  const list = h("ol", { class: "note-list", id: "live-notes" });
  const empty = h("p", { class: "muted", id: "live-notes-empty" }, "No notes yet. The candidate sees them on their review, at the moment they mark.");

  const sessionMs = () => {
    if (state.anchor) return Math.max(0, state.anchor.t_ms + (Date.now() - state.anchor.at));
    if (state.startedAt !== null) return Math.max(0, Date.now() - state.startedAt);
    return null;
  };
  const learnStart = async () => {
    if (state.startedAt !== null) return;
    try {
      const shared = await get("/v1/coaching");
      const entry = shared.find((s) => s.session_id === sessionId);
      if (entry && entry.started_at) state.startedAt = Date.parse(entry.started_at);
    } catch (_) { /* the live signals' clock may still come */ }
  };
  const mark = () => {
    const at = sessionMs();
    state.markedAt = at;
    moment.textContent = at === null ? "The note is marked at the moment you start writing it." : `This note marks ${clock(at / 1000)} into the interview.`;
  };
  body.addEventListener("input", () => {
    if (!body.value.trim()) state.markedAt = null;
    else if (state.markedAt === null) mark();
  });
  const show = (notes) => {
    list.replaceChildren(...notes.map(noteItem));
    empty.hidden = notes.length > 0;
  };
  const notes = [];
  const submit = async () => {
    error.clear();
    const text = body.value.trim();
    if (!text) {
      error.show("Write the note first.");
      body.focus();
      return;
    }
    if (state.markedAt === null) {
      await learnStart();
      mark();
    }
    if (state.markedAt === null) {
      error.show("The interview has not started yet: notes mark a moment of it.");
      return;
    }
    add.disabled = true;
    try {
      const note = await post(`/v1/sessions/${sessionId}/notes`, { t_ms: Math.round(state.markedAt), body: text });
      notes.push(note);
      notes.sort((a, b) => a.t_ms - b.t_ms);
      show(notes);
      body.value = "";
      state.markedAt = null;
      moment.textContent = "The note is marked at the moment you start writing it.";
      announce(`Note added at ${clock(note.t_ms / 1000)}.`);
    } catch (err) {
      error.show(`Could not add the note: ${err.message}`);
    } finally {
      add.disabled = false;
    }
  };
  add.addEventListener("click", submit);
  body.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      submit();
    }
  });

  const panel = h("section", { class: "card notes-panel", id: "notes", "aria-labelledby": "notes-title" },
    h("h2", { id: "notes-title" }, "Notes for the candidate"),
    h("div", { class: "field" }, h("label", { for: "note-body" }, "Note"), body, moment),
    error,
    h("div", { class: "actions" }, add, h("span", { class: "hint" }, "Ctrl+Enter adds it too.")),
    h("h3", {}, "Your notes"),
    empty, list);
  panel.onSummary = (msg) => {
    if (typeof msg.t_ms === "number") state.anchor = { t_ms: msg.t_ms, at: Date.now() };
  };
  panel.load = async () => {
    await learnStart();
    try {
      const existing = await get(`/v1/sessions/${sessionId}/notes`);
      notes.push(...existing);
      show(notes);
    } catch (_) { /* the list fills as notes are added */ }
  };
  show(notes);
  return panel;
}

export async function render(root, ctx) {
  const sessionId = ctx.params[0];
  const notes = notesPanel(sessionId);
  notes.load();
  // A coach whose access ends is told so by the room; a refused rejoin says the same.
  const join = async () => {
    try {
      return await requestJoin(`/v1/sessions/${sessionId}/watch`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new ApiError(410, "share revoked");
      throw err;
    }
  };
  await watchPage(root, ctx, {
    join,
    reportHref: `#/sessions/${sessionId}`,
    comeBack: "The candidate can share it with you again from their dashboard.",
    linkProblem: accessProblem,
    side: notes,
    onSummary: notes.onSummary,
    lede: "You are watching and listening only. The candidate sees your name while you watch.",
  });
}
