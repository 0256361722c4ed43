// Review of one interview: scorecard, per-answer feedback with stronger examples, delivery
// scores, a timeline chart of signals with key moments linked to the transcript, the change
// since the previous session, and PDF/CSV exports.

import { del, get, patch, post } from "../api.js";
import { labelOf, loadCatalog, sessionTitle } from "../catalog.js";
import { PALETTE, chartFigure, destroyAll, draw, lineDataset } from "../charts.js";
import { sharingSection } from "../coach-shares.js";
import { announce, answerBand, answerColour, clock, confirmButton, errorBox, formatDateTime, h, humanize, loading, scoreBar, scorePill, signed } from "../ui.js";

const PARTIAL_REFRESH_MS = 5000;
// Just after the interview ends, its last answers are still being stored (each heard again
// whole): the page waits for them rather than show scores that are about to change.
const SETTLING_POLL_MS = 1500;
const OPEN_STATUSES = new Set(["scheduled", "live"]);
const settling = (report) => report.partial && !OPEN_STATUSES.has(report.status);

async function settledReport(sessionId, body, ctx) {
  let report = await get(`/v1/sessions/${sessionId}/report`);
  while (settling(report) && ctx.isCurrent()) {
    if (!document.getElementById("report-settling")) {
      body.replaceChildren(h("p", { class: "loading", role: "status", id: "report-settling" },
        "Finishing your report: your last answer is being stored. This takes a few seconds…"));
    }
    await new Promise((resolve) => setTimeout(resolve, SETTLING_POLL_MS));
    if (ctx.isCurrent()) report = await get(`/v1/sessions/${sessionId}/report`);
  }
  return report;
}

function band(low, high) {
  return low != null && high != null ? `likely range ${low}–${high}` : "";
}

export function scorecardSection(report) {
  const card = report.scorecard;
  return h("section", { class: "card scorecard", id: "scorecard", "aria-labelledby": "scorecard-title" },
    h("h2", { id: "scorecard-title" }, "Scorecard"),
    h("div", { class: "overall" },
      h("p", { class: "overall-score", id: "overall-score", role: "img", "aria-label": card.overall == null ? "Overall score: not scored" : `Overall score ${card.overall} out of 100` },
        h("span", { "aria-hidden": "true" }, card.overall ?? "–"), h("span", { class: "out-of", "aria-hidden": "true" }, "/100")),
      h("p", { class: "muted" }, card.overall == null ? "Not enough was said to score this interview." : band(card.band_low, card.band_high))),
    h("ul", { class: "dimension-list", id: "dimensions" }, card.dimensions.map((d) =>
      h("li", { class: "dimension" },
        h("div", { class: "dimension-head" }, h("strong", {}, d.label), h("span", { class: "dimension-score" }, d.score == null ? "not scored" : `${d.score}`)),
        scoreBar(d.score),
        h("p", { class: "muted small" }, d.definition)))));
}

export function findingList(title, id, findings, answersBySeq) {
  return h("section", { class: "card", id, "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title` }, title),
    findings.length
      ? h("ul", { class: "finding-list" }, findings.map((f) => h("li", {},
        h("p", {}, h("strong", {}, f.title), ` — ${f.detail}`),
        f.evidence.length
          ? h("ul", { class: "evidence" }, f.evidence.map((e) => h("li", {},
            e.question_seq != null && answersBySeq.has(e.question_seq)
              ? h("a", { href: `#answer-${e.question_seq}`, onclick: (ev) => { ev.preventDefault(); focusAnswer(e.question_seq); } }, `Question ${e.question_seq}: `)
              : null,
            e.detail)))
          : null)))
      : h("p", { class: "muted" }, "Nothing stood out here yet."));
}

function focusAnswer(seq) {
  const el = document.getElementById(`answer-${seq}`);
  if (!el) return;
  el.open = true;
  el.scrollIntoView({ behavior: "smooth", block: "start" });
  el.querySelector("summary").focus({ preventScroll: true });
}

export function drillsSection(drills) {
  return h("section", { class: "card", id: "drills", "aria-labelledby": "drills-title" },
    h("h2", { id: "drills-title" }, "Drills to practise"),
    drills.length
      ? h("ol", { class: "drill-list" }, drills.map((p) => h("li", {},
        h("p", {}, h("strong", {}, p.drill.title), ` · ${p.drill.minutes} min`),
        h("p", { class: "muted" }, p.reason),
        h("details", {}, h("summary", {}, "How to do it"), h("ol", {}, p.drill.steps.map((s) => h("li", {}, s)))))))
      : h("p", { class: "muted" }, "No drills suggested for this interview."));
}

export function answerItem(answer, index, catalog) {
  const rubric = answer.rubric;
  return h("details", { class: "answer", id: `answer-${answer.seq}`, open: index === 0 },
    h("summary", {},
      scorePill(`Question ${answer.seq} score`, rubric ? rubric.overall : null, "small", answerColour),
      h("span", { class: "answer-title" }, `Q${answer.seq}. ${answer.question}`)),
    h("p", { class: "muted small" },
      `${rubric ? `${answerBand(rubric.overall)} answer · ` : ""}${labelOf(catalog && catalog.round_types, answer.category)} · ${answer.source === "follow_up" ? "follow-up" : "bank question"} · ${answer.words} words · ${Math.round(answer.duration_s)} s${answer.final ? "" : " · still open"}`),
    rubric
      ? h("div", {},
        h("ul", { class: "rubric-list" }, rubric.dimensions.map((d) => h("li", {},
          h("div", { class: "dimension-head" }, h("strong", {}, humanize(d.dimension)), h("span", { class: "dimension-score" }, `${d.score}`)),
          scoreBar(d.score, answerColour),
          h("p", { class: "reason" }, d.reason)))),
        rubric.strengths.length ? h("div", {}, h("h4", {}, "What worked"), h("ul", {}, rubric.strengths.map((s) => h("li", {}, s)))) : null,
        rubric.improvements.length ? h("div", {}, h("h4", {}, "What to improve"), h("ul", {}, rubric.improvements.map((s) => h("li", {}, s)))) : null,
        rubric.fallback_reason ? h("p", { class: "muted small" }, `Scored offline: ${rubric.fallback_reason}`) : null)
      : h("p", { class: "muted" }, answer.rubric_missing_reason || "This answer was not scored."),
    answer.example_answer
      ? h("div", { class: "example-answer" }, h("h4", {}, "A stronger example answer"), h("blockquote", {}, answer.example_answer))
      : null);
}

export function deliverySection(report) {
  const delivery = report.scorecard.delivery;
  const notes = report.notes || [];
  return h("section", { class: "card", id: "delivery", "aria-labelledby": "delivery-title" },
    h("h2", { id: "delivery-title" }, "Delivery"),
    h("div", { class: "callout info", id: "delivery-note" },
      h("p", {}, h("strong", {}, "Read these with care. ")),
      notes.length ? notes.map((n) => h("p", {}, n)) : h("p", {}, "Facial cues describe what the camera saw, not how you felt: do not over-interpret them.")),
    delivery.length
      ? h("ul", { class: "delivery-list" }, delivery.map((d) => h("li", { class: "delivery-item" },
        h("div", { class: "dimension-head" }, h("strong", {}, d.label),
          h("span", { class: "dimension-score" }, d.score == null ? "no data" : `${d.score}`)),
        d.score != null ? scoreBar(d.score) : null,
        h("p", {}, d.summary),
        h("p", { class: "muted small" }, `Confidence: ${d.confidence}${d.samples ? ` · ${d.samples} samples` : ""}${band(d.band_low, d.band_high) ? ` · ${band(d.band_low, d.band_high)}` : ""}`),
        d.factors.length
          ? h("details", {}, h("summary", {}, "What this is based on"),
            h("ul", {}, d.factors.map((f) => h("li", {}, `${f.name}: ${f.value ?? "–"}${f.unit ? ` ${f.unit}` : ""}`))))
          : null,
        d.note ? h("p", { class: "caution small" }, d.note) : null)))
      : h("p", { class: "muted" }, "Delivery was not analysed for this interview."));
}

/** The entry's index in the transcript that a key moment points at (its candidate response). */
function momentLine(moment, transcript, anchors) {
  if (!moment.question_id) return -1;
  let nth = 0;
  const anchor = anchors.find((a) => a.question_id === moment.question_id);
  if (anchor && moment.response_id) nth = Math.max(0, anchor.responses.findIndex((r) => r.response_id === moment.response_id));
  const lines = transcript.map((e, i) => [e, i]).filter(([e]) => e.speaker === "candidate" && e.question_id === moment.question_id);
  if (lines.length) return lines[Math.min(nth, lines.length - 1)][1];
  return transcript.findIndex((e) => e.question_id === moment.question_id);
}

function highlightLine(index, wordIndex) {
  const line = document.getElementById(`line-${index}`);
  if (!line) return;
  document.querySelectorAll(".transcript-line.highlight").forEach((el) => el.classList.remove("highlight"));
  document.querySelectorAll(".transcript-line mark").forEach((m) => m.replaceWith(m.textContent));
  line.classList.add("highlight");
  const text = line.querySelector(".line-text");
  if (wordIndex != null && text) {
    const words = text.textContent.split(/(\s+)/);
    const wordPositions = words.map((w, i) => (/\S/.test(w) ? i : -1)).filter((i) => i >= 0);
    const at = wordPositions[Math.min(wordIndex, wordPositions.length - 1)];
    if (at !== undefined) {
      text.replaceChildren(words.slice(0, at).join(""), h("mark", {}, words[at]), words.slice(at + 1).join(""));
    }
  }
  line.scrollIntoView({ behavior: "smooth", block: "center" });
  line.focus({ preventScroll: true });
}

/** "mm:ss" or "h:mm:ss" typed by a coach, as milliseconds; null when it is not a time. */
function parseClock(text) {
  const parts = String(text).trim().split(":").map((p) => p.trim());
  if (!parts.length || parts.length > 3 || parts.some((p) => !/^\d+$/.test(p))) return null;
  return parts.reduce((total, p) => total * 60 + Number(p), 0) * 1000;
}

/**
 * Coach notes on the timeline, oldest moment first. The candidate (`owner`) sees hidden ones too
 * and can hide, show or delete each; a coach can add one at a moment of the interview.
 */
function coachNotesBlock(sessionId, notes, { owner, onChange }) {
  const error = errorBox("coach-notes-error");
  const sorted = notes.slice().sort((a, b) => a.t_ms - b.t_ms);
  const act = async (fn, done) => {
    error.clear();
    try {
      await fn();
      announce(done);
      await onChange();
    } catch (err) {
      error.show(err.message);
    }
  };
  const list = h("ol", { class: "note-list", id: "coach-notes" }, sorted.map((n) => h("li", {
    class: `note-row${n.hidden ? " is-hidden" : ""}`, dataset: { noteId: n.id, tMs: String(n.t_ms), hidden: String(Boolean(n.hidden)) },
  },
  h("span", { class: "moment-time" }, clock(n.t_ms / 1000)),
  h("span", { class: "note-text" },
    h("span", { class: "note-body" }, n.body),
    h("span", { class: "muted block small" }, `${n.author_name}${n.hidden ? " · hidden from your report and exports" : ""}`)),
  owner
    ? h("span", { class: "note-actions" },
      h("button", { type: "button", class: "secondary small", "aria-label": `${n.hidden ? "Show" : "Hide"} the note at ${clock(n.t_ms / 1000)} by ${n.author_name}`,
        onclick: () => act(() => patch(`/v1/sessions/${sessionId}/notes/${n.id}`, { hidden: !n.hidden }), n.hidden ? "Note shown." : "Note hidden.") },
      n.hidden ? "Show" : "Hide"),
      h("button", { type: "button", class: "danger-outline small", "aria-label": `Delete the note at ${clock(n.t_ms / 1000)} by ${n.author_name}`,
        onclick: () => act(() => del(`/v1/sessions/${sessionId}/notes/${n.id}`), "Note deleted.") }, "Delete"))
    : null)));
  const parts = [
    h("h3", { id: "coach-notes-title" }, `Coach notes (${sorted.length})`),
    sorted.length ? list : h("p", { class: "muted", id: "coach-notes-empty" }, owner
      ? "No coach has left a note on this interview. Share it with a coach below to get their notes."
      : "No notes yet."),
    owner && sorted.length ? h("p", { class: "hint" }, "Hidden notes stay here for you but leave your report, its PDF and your coaches' view.") : null,
    error,
  ];
  if (!owner) {
    const at = h("input", { id: "new-note-time", type: "text", inputmode: "numeric", value: "00:00", autocomplete: "off", "aria-describedby": "new-note-time-hint" });
    const text = h("textarea", { id: "new-note-body", rows: "3", maxlength: "2000" });
    const add = h("button", { type: "submit", id: "new-note-add" }, "Add note");
    const form = h("form", { class: "note-form", novalidate: true },
      h("div", { class: "note-form-grid" },
        h("div", { class: "field" }, h("label", { for: "new-note-time" }, "At (mm:ss)"), at, h("p", { class: "hint", id: "new-note-time-hint" }, "Time into the interview.")),
        h("div", { class: "field" }, h("label", { for: "new-note-body" }, "Note"), text)),
      h("div", { class: "actions" }, add));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.clear();
      const tMs = parseClock(at.value);
      if (tMs === null) return error.show("Write the time as minutes:seconds, like 03:25.");
      if (!text.value.trim()) return error.show("Write the note first.");
      add.disabled = true;
      await act(() => post(`/v1/sessions/${sessionId}/notes`, { t_ms: tMs, body: text.value.trim() }), "Note added.");
      add.disabled = false;
    });
    parts.push(h("details", { class: "share-new" }, h("summary", {}, "Add a note"), form));
  }
  return h("div", { class: "coach-notes", id: "coach-notes-block" }, parts);
}

function timelineSection(timeline, transcript, charts, notes = [], notesBlock = null) {
  const s = timeline.series;
  const has = (arr) => arr.some((v) => v !== null);
  const mean = (arr) => {
    const vals = arr.filter((v) => v !== null);
    return vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
  };
  const moments = timeline.moments.filter((m) => m.kind !== "coach_note");
  const shownNotes = notes.filter((n) => !n.hidden);
  const parts = [];
  // the live readings, as charted; each answer's pace from its stored words is under Delivery
  if (has(s.pace_wpm)) parts.push(`live pace readings averaged ${Math.round(mean(s.pace_wpm))} words per minute`);
  if (has(s.pitch_hz)) parts.push(`pitch averaged ${Math.round(mean(s.pitch_hz))} Hz`);
  if (has(s.face_visible)) parts.push(`your face was visible ${Math.round(mean(s.face_visible) * 100)}% of the time`);
  if (has(s.gaze_on_camera)) parts.push(`gaze towards the camera averaged ${Math.round(mean(s.gaze_on_camera) * 100)}%`);
  const anySignal = parts.length > 0;
  const summary = anySignal
    ? `Over ${clock((timeline.to_ms - timeline.from_ms) / 1000)}: ${parts.join("; ")}. ${moments.length} key moment${moments.length === 1 ? "" : "s"} marked${shownNotes.length ? `, and ${shownNotes.length} coach note${shownNotes.length === 1 ? "" : "s"}` : ""}.`
    : "No delivery signals were recorded for this interview (delivery analysis was off, or nothing was captured).";
  const figure = chartFigure({
    id: "timeline-chart",
    label: "Line chart over the interview: speaking pace, pitch, face visible and gaze on camera, with key moments marked",
    summary,
    height: "20rem",
  });
  const list = h("ol", { class: "moment-list", id: "moments" }, moments.map((m) => {
    const lineIndex = momentLine(m, transcript, timeline.anchors);
    return h("li", {},
      h("button", {
        type: "button",
        class: "moment",
        dataset: { line: String(lineIndex), kind: m.kind },
        disabled: lineIndex < 0,
        onclick: () => highlightLine(lineIndex, m.word_index),
      },
      h("span", { class: "moment-time" }, clock(m.t_ms / 1000)),
      h("span", { class: `moment-kind kind-${m.kind}`, "aria-hidden": "true" }),
      h("span", {}, h("strong", {}, m.title), m.question_seq != null ? ` (question ${m.question_seq})` : "", h("span", { class: "muted block" }, m.detail))));
  }));
  const section = h("section", { class: "card", id: "timeline", "aria-labelledby": "timeline-title" },
    h("h2", { id: "timeline-title" }, "Timeline"),
    figure.figure,
    h("h3", {}, "Key moments"),
    moments.length ? list : h("p", { class: "muted" }, "No key moments were found."),
    moments.length && transcript.length ? h("p", { class: "hint" }, "Choose a moment to jump to it in the transcript.") : null,
    notesBlock);

  section.drawChart = () => {
    if (!anySignal) return null;
    const pts = (arr, scale = 1) => s.t_ms.map((t, i) => ({ x: t / 1000, y: arr[i] === null ? null : arr[i] * scale }));
    return draw(figure.canvas, {
      type: "line",
      data: {
        datasets: [
          lineDataset("Pace (words/min)", pts(s.pace_wpm), PALETTE.accent, { yAxisID: "y" }),
          lineDataset("Pitch (Hz)", pts(s.pitch_hz), PALETTE.violet, { yAxisID: "y" }),
          lineDataset("Face visible (%)", pts(s.face_visible, 100), PALETTE.blue, { yAxisID: "pct", stepped: true, tension: 0 }),
          lineDataset("Gaze on camera (%)", pts(s.gaze_on_camera, 100), PALETTE.amber, { yAxisID: "pct" }),
          {
            type: "scatter",
            label: "Key moments",
            data: moments.map((m) => ({ x: m.t_ms / 1000, y: 104, title: m.title })),
            yAxisID: "pct",
            pointStyle: "triangle",
            rotation: 180,
            radius: 7,
            hoverRadius: 9,
            backgroundColor: PALETTE.pink,
            borderColor: PALETTE.pink,
          },
          ...(shownNotes.length ? [{
            type: "scatter",
            label: "Coach notes",
            data: shownNotes.map((n) => ({ x: n.t_ms / 1000, y: 96, title: `${n.author_name}: ${n.body}` })),
            yAxisID: "pct",
            pointStyle: "rectRot",
            radius: 7,
            hoverRadius: 9,
            backgroundColor: PALETTE.blue,
            borderColor: PALETTE.blue,
          }] : []),
        ],
      },
      options: {
        parsing: true,
        interaction: { mode: "nearest", intersect: false },
        scales: {
          x: { type: "linear", min: timeline.from_ms / 1000, max: timeline.to_ms / 1000, title: { display: true, text: "Time" }, ticks: { callback: (v) => clock(v) } },
          y: { position: "left", beginAtZero: true, title: { display: true, text: "words/min · Hz" } },
          pct: { position: "right", min: 0, max: 110, grid: { drawOnChartArea: false }, title: { display: true, text: "%" }, ticks: { callback: (v) => (v <= 100 ? v : "") } },
        },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 14 } },
          tooltip: {
            callbacks: {
              title: (items) => clock(items[0].parsed.x),
              label: (item) => (item.dataset.type === "scatter"
                ? `${item.dataset.label === "Coach notes" ? "Coach note" : "Key moment"}: ${item.raw.title}`
                : `${item.dataset.label}: ${Math.round(item.parsed.y)}`),
            },
          },
        },
      },
    }, charts);
  };
  return section;
}

/** Who said a transcript line: you, or the interviewer (by name when a panel interviewed). */
function speakerLabel(e, catalog, panel) {
  if (e.speaker !== "interviewer") return "You";
  const who = panel && e.persona ? labelOf(catalog && catalog.personas, e.persona) : "Interviewer";
  return e.source === "follow_up" ? `${who} (follow-up)` : who;
}

function transcriptSection(transcript, catalog, panel) {
  return h("section", { class: "card", id: "transcript", "aria-labelledby": "transcript-title" },
    h("h2", { id: "transcript-title" }, "Transcript"),
    transcript.length
      ? h("ol", { class: "transcript" }, transcript.map((e, i) => h("li", {
        class: `transcript-line ${e.speaker}`, id: `line-${i}`, tabindex: "-1", dataset: { questionId: e.question_id || "" },
      },
      h("span", { class: "speaker", dataset: { persona: e.persona || "" } }, speakerLabel(e, catalog, panel)),
      h("span", { class: "line-text" }, e.text))))
      : h("p", { class: "muted" }, "Nothing was said in this interview."));
}

const LOCAL_PROVIDERS = new Set(["greenroom", "piper", "faster-whisper"]);

/** What the interview used of each provider: cloud ones cost money, local ones run here. */
function usageSection(usage) {
  const rows = Object.entries((usage && usage.by_provider) || {});
  if (!rows.length) return null;
  const number = (n) => Math.round(n).toLocaleString();
  const parts = (u) => [
    u.tokens_in || u.tokens_out ? `${number(u.tokens_in)} tokens in, ${number(u.tokens_out)} out` : null,
    u.tts_characters ? `${number(u.tts_characters)} characters spoken` : null,
    u.stt_audio_s ? `${number(u.stt_audio_s)} s of your audio transcribed` : null,
  ].filter(Boolean).join(" · ") || "nothing";
  return h("section", { class: "card", id: "usage", "aria-labelledby": "usage-title" },
    h("h2", { id: "usage-title" }, "What this interview used"),
    h("ul", { class: "plain" }, rows.map(([provider, u]) => h("li", { dataset: { provider } },
      h("strong", {}, provider), LOCAL_PROVIDERS.has(provider) ? " (on this server)" : " (cloud)", `: ${parts(u)}`))));
}

function retentionNote(session) {
  if (session.retain_until) return `Kept until ${formatDateTime(session.retain_until)}, then deleted automatically. You can delete it now instead.`;
  if (session.retention_days === null && session.retain_until === null) return "Kept until you delete it.";
  return "You can delete it at any time.";
}

/** This session against the one before it: the API's comparison, else from the history. */
export function comparisonFor(sessionId, progress) {
  if (!progress) return null;
  const history = progress.history || [];
  const at = history.findIndex((e) => e.session_id === sessionId);
  if (at < 0 || history[at].overall == null) return null;
  const current = history[at];
  const previous = history.slice(at + 1).find((e) => e.overall != null);
  if (!previous) return null;
  const labels = Object.fromEntries((progress.trends || []).map((t) => [t.dimension, t.label]));
  const rows = [{ label: "Overall", previous: previous.overall, latest: current.overall }].concat(
    Object.keys(current.dimensions).map((d) => ({ label: labels[d] || humanize(d), previous: previous.dimensions[d], latest: current.dimensions[d] })));
  const api = progress.comparison;
  const summary = api && api.latest_session_id === sessionId && api.previous_session_id === previous.session_id ? api.summary : [];
  return { previous, rows, summary };
}

function comparisonSection(comparison) {
  if (!comparison) {
    return h("section", { class: "card", id: "comparison", "aria-labelledby": "comparison-title" },
      h("h2", { id: "comparison-title" }, "Compared with last time"),
      h("p", { class: "muted" }, "This is your first scored interview — the next one will be compared with it."));
  }
  return h("section", { class: "card", id: "comparison", "aria-labelledby": "comparison-title" },
    h("h2", { id: "comparison-title" }, "Compared with last time"),
    h("p", { class: "muted" }, "Previous interview: ", h("a", { href: `#/sessions/${comparison.previous.session_id}` }, formatDateTime(comparison.previous.at))),
    h("table", { class: "compare-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Score"), h("th", { scope: "col" }, "Before"), h("th", { scope: "col" }, "Now"), h("th", { scope: "col" }, "Change"))),
      h("tbody", {}, comparison.rows.map((r) => {
        const delta = r.previous != null && r.latest != null ? r.latest - r.previous : null;
        return h("tr", {},
          h("th", { scope: "row" }, r.label),
          h("td", {}, r.previous ?? "–"),
          h("td", {}, r.latest ?? "–"),
          h("td", { class: delta > 0 ? "up" : delta < 0 ? "down" : "" }, signed(delta)));
      }))),
    comparison.summary.length ? h("ul", {}, comparison.summary.map((s) => h("li", {}, s))) : null);
}

function exportSection(sessionId) {
  const status = h("p", { class: "muted", id: "export-status", role: "status", "aria-live": "polite" });
  const error = errorBox("export-error");
  const button = (format, text) => h("button", {
    type: "button",
    id: `export-${format}`,
    class: "secondary",
    onclick: async (ev) => {
      const btn = ev.currentTarget;
      btn.disabled = true;
      error.clear();
      status.textContent = format === "pdf" ? "Preparing your PDF report…" : "Preparing your CSV…";
      try {
        const made = await post(`/v1/sessions/${sessionId}/export`, { format });
        const link = h("a", { href: made.download_url, download: "", hidden: true });
        document.body.append(link);
        link.click();
        link.remove();
        status.textContent = `${format.toUpperCase()} ready — your download has started.`;
      } catch (err) {
        status.textContent = "";
        error.show(`Export failed: ${err.message}`);
      } finally {
        btn.disabled = false;
      }
    },
  }, text);
  return h("div", { class: "exports", id: "exports", role: "group", "aria-label": "Export this report" },
    h("div", { class: "actions" }, button("pdf", "Download PDF"), button("csv", "Download CSV")),
    status, error);
}

/** Notes from the timeline's coach_note items, when the notes themselves cannot be read. */
function notesInTimeline(timeline) {
  const items = timeline ? [...(timeline.moments || []), ...(timeline.notes || [])] : [];
  return items.filter((m) => m.kind === "coach_note" || (timeline.notes || []).includes(m))
    .map((m) => ({ id: m.id || null, t_ms: m.t_ms, body: m.body, author_name: m.author_name, hidden: false }));
}

export async function render(root, ctx) {
  const sessionId = ctx.params[0];
  const charts = [];
  const timelineCharts = [];
  let refresh = null;
  ctx.onLeave(() => { destroyAll(charts); destroyAll(timelineCharts); clearTimeout(refresh); });
  const heading = h("h1", {}, "Interview review");
  const subtitle = h("p", { class: "lede", id: "review-subtitle" });
  const body = h("div", { class: "review" }, loading("your report"));
  const head = h("div", { class: "page-head" }, h("div", {}, heading, subtitle));
  root.append(head, body);

  // A coach the candidate shared with reads the report, timeline and notes, not the session.
  const report = await settledReport(sessionId, body, ctx);
  if (!ctx.isCurrent()) return;
  const [detail, timeline, catalog, progress, notes] = await Promise.all([
    get(`/v1/sessions/${sessionId}`).catch((err) => { if (err.status === 404) return null; throw err; }),
    get(`/v1/sessions/${sessionId}/timeline`).catch(() => null),
    loadCatalog().catch(() => null),
    get("/v1/users/me/progress").catch(() => null),
    get(`/v1/sessions/${sessionId}/notes`).catch(() => null),
  ]);
  if (!ctx.isCurrent()) return;
  const owner = detail !== null;
  const about = detail || report;
  const transcript = owner ? detail.transcript : [];
  if (!owner) heading.textContent = "Interview review (coach)";
  subtitle.textContent = `${sessionTitle(catalog, about)} · ${humanize(about.difficulty)} · ${formatDateTime(about.started_at || about.created_at)} · ${clock(report.duration_s)}`;
  head.append(h("div", { class: "head-actions" }, exportSection(sessionId), owner ? h("a", { class: "button", href: "#/new" }, "Practise again") : null));
  const answersBySeq = new Map(report.answers.map((a) => [a.seq, a]));

  // The timeline with the coach notes in it, built again when a note changes.
  let timelineEl = null;
  const buildTimeline = (shown) => {
    const block = coachNotesBlock(sessionId, shown, { owner, onChange: reloadNotes });
    if (timeline) return timelineSection(timeline, transcript, timelineCharts, shown, block);
    const bare = h("section", { class: "card", id: "timeline", "aria-labelledby": "timeline-title" }, h("h2", { id: "timeline-title" }, "Timeline"), block);
    bare.drawChart = () => null;
    return bare;
  };
  async function reloadNotes() {
    const fresh = await get(`/v1/sessions/${sessionId}/notes`);
    if (!ctx.isCurrent()) return;
    destroyAll(timelineCharts);
    const next = buildTimeline(fresh);
    timelineEl.replaceWith(next);
    timelineEl = next;
    next.drawChart();
    const title = document.getElementById("coach-notes-title");
    if (title) { title.setAttribute("tabindex", "-1"); title.focus({ preventScroll: true }); }
  }
  timelineEl = buildTimeline(notes || notesInTimeline(timeline));

  body.replaceChildren(...[
    report.partial
      ? h("div", { class: "callout warning", id: "partial-banner", role: "status" },
        h("strong", {}, "This report is still being built. "),
        "The interview is still open, so these are the scores so far. We'll tell you here when the final report is ready. ",
        owner ? h("a", { href: `#/room/${sessionId}` }, "Back to the interview") : null)
      : null,
    owner ? null : h("p", { class: "callout info", id: "coach-view-note" }, "You are reading this report as a coach the candidate shared it with. Your notes appear on their review and in its PDF."),
    owner
      ? h("div", { class: "grid-2" }, scorecardSection(report), comparisonSection(comparisonFor(sessionId, progress)))
      : scorecardSection(report),
    h("div", { class: "grid-2" },
      findingList("Strengths", "strengths", report.scorecard.strengths, answersBySeq),
      findingList("To improve", "improvements", report.scorecard.improvements, answersBySeq)),
    timelineEl,
    h("section", { class: "card", id: "answers", "aria-labelledby": "answers-title" },
      h("h2", { id: "answers-title" }, owner ? "Your answers" : "Answers"),
      report.answers.length ? report.answers.map((answer, index) => answerItem(answer, index, catalog)) : h("p", { class: "muted" }, "No questions were answered.")),
    h("div", { class: "grid-2" }, deliverySection(report), drillsSection(report.scorecard.drills)),
    owner ? transcriptSection(detail.transcript, catalog, (detail.panel || []).length > 1) : null,
    owner ? usageSection(detail.usage) : null,
    owner ? sharingSection({ sessionId, id: "sharing", title: "Share with a coach", compact: true }) : null,
    owner ? h("section", { class: "card", id: "delete-session", "aria-labelledby": "delete-title" },
      h("h2", { id: "delete-title" }, "Delete this interview"),
      h("p", { class: "muted" }, retentionNote(detail)),
      confirmButton({
        id: "delete-session-button",
        label: "Delete this interview",
        question: "Delete this interview, its transcript, signals, scores and exports? This cannot be undone.",
        confirmLabel: "Yes, delete it",
        action: async () => {
          await del(`/v1/sessions/${sessionId}`);
          announce("Interview deleted.");
          ctx.navigate("#/");
        },
      })) : null,
  ].filter(Boolean));
  if (timelineEl) timelineEl.drawChart();
  announce(report.partial ? "Report so far loaded; still being built." : "Report ready.");

  // While the report is partial, check in the background; offer the final one when it is ready.
  const poll = async () => {
    if (!ctx.isCurrent()) return;
    let latest = null;
    try { latest = await get(`/v1/sessions/${sessionId}/report`); } catch (_) { /* try again later */ }
    if (!ctx.isCurrent()) return;
    if (latest && !latest.partial) {
      const banner = document.getElementById("partial-banner");
      banner.className = "callout info";
      banner.replaceChildren(h("strong", {}, "Your final report is ready. "),
        h("button", { type: "button", onclick: () => ctx.navigate(`#/sessions/${sessionId}`) }, "Show the final report"));
      announce("Your final report is ready.");
      return;
    }
    refresh = setTimeout(poll, PARTIAL_REFRESH_MS);
  };
  if (report.partial) refresh = setTimeout(poll, PARTIAL_REFRESH_MS);
}
