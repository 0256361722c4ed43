// Small DOM helpers shared by the pages: building elements, wording, announcing.

/**
 * Makes an element: h("button", {type: "button", onclick: fn}, "Save").
 * Attributes starting with "on" become listeners; `class`, `style`, `dataset`, `hidden` and boolean
 * properties are handled; children may be strings, nodes, arrays, null or false.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "style") el.style.cssText = value; // the CSP refuses style attributes, not properties
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "text") el.textContent = value;
    else if (["value", "checked", "disabled", "selected", "hidden", "required", "muted", "autoplay"].includes(key)) el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** "medical_school_mmi" -> "Medical school mmi" (for ids the catalog has no name for). */
export function humanize(id) {
  if (!id) return "";
  const words = String(id).replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A catalog entry's display name by id, from a list of {id, name}. */
export function nameOf(list, id) {
  const found = (list || []).find((item) => item.id === id);
  return found ? found.name : humanize(id);
}

const dateFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });

export const formatDate = (iso) => (iso ? dateFormat.format(new Date(iso)) : "");
export const formatDateTime = (iso) => (iso ? dateTimeFormat.format(new Date(iso)) : "");

/** mm:ss from seconds. */
export function clock(totalSeconds) {
  const s = Math.max(0, Math.floor(totalSeconds));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

/** "+5", "−3", "0" for a change in points. */
export function signed(delta) {
  if (delta === null || delta === undefined) return "–";
  const rounded = Math.round(delta);
  if (rounded > 0) return `+${rounded}`;
  if (rounded < 0) return `−${Math.abs(rounded)}`;
  return "0";
}

/** A score 0–100 shown as a labelled number, or "not scored". */
export function scoreText(score) {
  return score === null || score === undefined ? "not scored" : `${score}`;
}

/** Puts a message in the header's live status region (read out by screen readers). */
export function announce(text) {
  const el = document.getElementById("status");
  if (el) el.textContent = text;
}

/** An inline error box (role=alert), empty and hidden until `show` is called. */
export function errorBox(id) {
  const el = h("p", { class: "error", role: "alert", id, hidden: true });
  el.show = (message) => { el.textContent = message; el.hidden = false; };
  el.clear = () => { el.textContent = ""; el.hidden = true; };
  return el;
}

/** A loading placeholder for a page's main area. */
export const loading = (what) => h("p", { class: "loading", role: "status" }, `Loading ${what}…`);

/** "good", "fair", "low" or "none" for a 0–100 score (colours only; the number is always shown). */
export function band(score) {
  return score === null || score === undefined ? "none" : score >= 70 ? "good" : score >= 50 ? "fair" : "low";
}

/**
 * The band of an answer's rubric score on the evaluator's calibrated scale (scoring/calibration.py):
 * strong 80–100, adequate 55–79, weak 20–54, off-topic or empty 0–19; null when not scored.
 */
export function answerBand(score) {
  if (score === null || score === undefined) return null;
  return score >= 80 ? "strong" : score >= 55 ? "adequate" : score >= 20 ? "weak" : "off-topic or empty";
}

/** The colour class of an answer's rubric score: its calibrated band, not the delivery lines. */
export function answerColour(score) {
  return { strong: "good", adequate: "fair", weak: "low", "off-topic or empty": "low" }[answerBand(score)] ?? "none";
}

/** A horizontal bar for a 0–100 score (decorative: the number is shown beside it). */
export function scoreBar(score, colour = band) {
  const width = Math.max(0, Math.min(100, score ?? 0));
  return h("div", { class: "bar", "aria-hidden": "true" }, h("div", { class: `bar-fill band-${colour(score)}`, style: `width:${width}%` }));
}

/** A score rendered as a pill with an accessible name ("Overall 72 out of 100"). */
export function scorePill(label, score, extraClass = "", colour = band) {
  return h("span", { class: `score-pill band-${colour(score)} ${extraClass}`.trim(), role: "img", "aria-label": `${label}: ${score ?? "not scored"}${score != null ? " out of 100" : ""}` },
    h("span", { class: "score-pill-value", "aria-hidden": "true" }, score ?? "–"));
}

/**
 * A destructive action that asks first: the button reveals "Yes, …" and "Cancel" in place.
 * `action` runs on confirmation; its error is shown inline.
 */
export function confirmButton({ id, label, question, confirmLabel, action }) {
  const error = errorBox(`${id}-error`);
  const start = h("button", { type: "button", class: "danger-outline", id }, label);
  const yes = h("button", { type: "button", class: "danger", id: `${id}-confirm` }, confirmLabel);
  const no = h("button", { type: "button", class: "secondary", id: `${id}-cancel` }, "Cancel");
  const ask = h("div", { class: "confirm", role: "group", "aria-label": question, hidden: true },
    h("p", {}, h("strong", {}, question)), h("div", { class: "actions" }, yes, no));
  start.addEventListener("click", () => { ask.hidden = false; start.hidden = true; no.focus(); });
  no.addEventListener("click", () => { ask.hidden = true; start.hidden = false; start.focus(); });
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    error.clear();
    try {
      await action();
    } catch (err) {
      error.show(err.message);
      yes.disabled = false;
    }
  });
  return h("div", { class: "confirm-wrap" }, start, ask, error);
}
