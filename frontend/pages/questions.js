// Question bank: filter and search the questions, read their hints, practise one by typing an
// answer (scored on its rubric) or out loud (a one-question spoken interview).

import { get, post, query } from "../api.js";
import { labelOf, loadCatalog } from "../catalog.js";
import { answerBand, answerColour, errorBox, h, humanize, scoreBar, scorePill } from "../ui.js";

const PAGE_SIZE = 20;
const SEARCH_DELAY_MS = 300;

function filterSelect(id, name, labelText, choices, selected) {
  return h("div", { class: "field" },
    h("label", { for: id }, labelText),
    h("select", { id, name },
      h("option", { value: "" }, "Any"),
      choices.map((c) => h("option", { value: c.id, selected: c.id === selected }, c.label || humanize(c.id)))));
}

function scoreResult(score) {
  return h("div", { class: "practice-result", id: "practice-result", tabindex: "-1", "aria-labelledby": "practice-result-title" },
    h("div", { class: "result-head" },
      scorePill("Your answer's score", score.overall, "", answerColour),
      h("h4", { id: "practice-result-title" }, `Scored ${score.overall} out of 100: ${answerBand(score.overall)}`)),
    score.band_low != null && score.band_high != null
      ? h("p", { class: "muted small" }, `Likely ${score.band_low}–${score.band_high} (${score.confidence} confidence). Strong is 80 or more, adequate 55–79, weak 20–54.`)
      : h("p", { class: "muted small" }, "Strong is 80 or more, adequate 55–79, weak 20–54."),
    h("ul", { class: "rubric-list" }, score.dimensions.map((d) => h("li", {},
      h("div", { class: "dimension-head" }, h("strong", {}, humanize(d.dimension)), h("span", { class: "dimension-score" }, `${d.score}`)),
      scoreBar(d.score, answerColour),
      h("p", { class: "reason" }, d.reason)))),
    score.strengths.length ? h("div", {}, h("h5", {}, "What worked"), h("ul", {}, score.strengths.map((s) => h("li", {}, s)))) : null,
    score.improvements.length ? h("div", {}, h("h5", {}, "What to improve"), h("ul", {}, score.improvements.map((s) => h("li", {}, s)))) : null,
    score.stronger_answer ? h("div", { class: "example-answer" }, h("h5", {}, "A stronger example answer"), h("blockquote", {}, score.stronger_answer)) : null,
    h("p", { class: "muted small" }, `Scored by the ${score.evaluator.startsWith("llm") ? "AI" : "offline"} evaluator.`));
}

function practicePanel(question) {
  const id = `answer-${question.id}`;
  const answer = h("textarea", { id, rows: "7", "aria-describedby": `${id}-hint`, maxlength: "60000" });
  const error = errorBox(`${id}-error`);
  const submit = h("button", { type: "submit", class: "score-answer" }, "Score my answer");
  const result = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "practice-form", novalidate: true },
    h("label", { for: id }, "Your answer"),
    h("p", { class: "hint", id: `${id}-hint` }, `Type it as you'd say it. About ${Math.round(question.time_limit_s / 60) || 1} minute${question.time_limit_s > 90 ? "s" : ""} spoken.`),
    answer, error, h("div", { class: "actions" }, submit), result);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.clear();
    if (!answer.value.trim()) {
      error.show("Write an answer first.");
      answer.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Scoring…";
    try {
      const score = await post("/v1/score", { question: question.text, answer: answer.value, question_id: question.id });
      document.getElementById("practice-result")?.removeAttribute("id");
      const shown = scoreResult(score);
      result.replaceChildren(shown);
      shown.focus();
    } catch (err) {
      error.show(`Could not score the answer: ${err.message}`);
    } finally {
      submit.disabled = false;
      submit.textContent = "Score my answer";
    }
  });
  return form;
}

function questionItem(question, catalog, ctx) {
  const slot = h("div", { class: "practice-slot" });
  const practise = h("button", { type: "button", class: "secondary small practise-typed", "aria-expanded": "false" }, "Practise (typed)");
  practise.addEventListener("click", () => {
    const open = practise.getAttribute("aria-expanded") === "true";
    practise.setAttribute("aria-expanded", String(!open));
    slot.replaceChildren(...(open ? [] : [practicePanel(question)]));
    if (!open) slot.querySelector("textarea").focus();
  });
  const aloud = h("button", { type: "button", class: "secondary small practise-aloud" }, "Practise aloud");
  aloud.addEventListener("click", () => {
    const roleIds = catalog.role_tracks.map((r) => r.id);
    const roundIds = catalog.round_types.map((r) => r.id);
    ctx.app.draft = {
      role_track: question.roles.find((r) => roleIds.includes(r)) || "general",
      round_type: roundIds.includes(question.category) ? question.category : "mixed",
      difficulty: question.difficulty,
      duration_min: Math.min(...catalog.durations_min),
      persona: catalog.default_persona,
      cv_text: null,
      jd_text: null,
      practice_question_id: question.id,
      practice_question_text: question.text,
    };
    ctx.navigate("#/check");
  });
  return h("li", { class: "card question-item", dataset: { questionId: question.id } },
    h("h3", { class: "question-text" }, question.text),
    h("ul", { class: "tag-list" },
      h("li", { class: "tag" }, labelOf(catalog.round_types, question.category)),
      h("li", { class: "tag" }, labelOf(catalog.difficulties, question.difficulty)),
      question.subcategory ? h("li", { class: "tag" }, humanize(question.subcategory)) : null,
      question.average_score != null ? h("li", { class: "tag" }, `Average score ${Math.round(question.average_score)}`) : null),
    question.hints.length
      ? h("details", { class: "hints" }, h("summary", {}, "Hints"), h("ul", {}, question.hints.map((hint) => h("li", {}, hint))))
      : null,
    h("div", { class: "actions" }, practise, aloud),
    slot);
}

export async function render(root, ctx) {
  const catalog = await loadCatalog();
  const categories = catalog.round_types.filter((r) => r.id !== "mixed");
  const initial = Object.fromEntries(["category", "difficulty", "role", "q"].map((k) => [k, ctx.query.get(k) || ""]));
  const search = h("input", { id: "q", name: "q", type: "search", value: initial.q, autocomplete: "off", placeholder: "e.g. conflict, deadline, pricing" });
  const filters = h("form", { class: "card filters", role: "search", "aria-label": "Filter questions", id: "question-filters" },
    filterSelect("category", "category", "Category", categories, initial.category),
    filterSelect("difficulty-filter", "difficulty", "Difficulty", catalog.difficulties, initial.difficulty),
    filterSelect("role", "role", "Role", catalog.role_tracks, initial.role),
    h("div", { class: "field grow" }, h("label", { for: "q" }, "Search"), search),
    h("div", { class: "field end" }, h("button", { type: "submit" }, "Search")));
  const count = h("p", { id: "result-count", role: "status", "aria-live": "polite" });
  const list = h("ul", { class: "question-list", id: "question-list" });
  const error = errorBox("questions-error");
  const more = h("button", { type: "button", class: "secondary", id: "more", hidden: true }, "Show more questions");

  let offset = 0;
  let params = {};
  let requestId = 0;

  const load = async (append) => {
    const mine = ++requestId;
    error.clear();
    if (!append) {
      offset = 0;
      const data = new FormData(filters);
      params = Object.fromEntries(["category", "difficulty", "role", "q"].map((k) => [k, String(data.get(k) || "").trim()]));
      history.replaceState(null, "", `#/questions${query(params)}`);
      count.textContent = "Searching…";
    }
    try {
      const page = await get(`/v1/questions${query({ ...params, limit: PAGE_SIZE, offset })}`);
      if (mine !== requestId || !ctx.isCurrent()) return;
      const items = page.items.map((q) => questionItem(q, catalog, ctx));
      if (append) list.append(...items);
      else list.replaceChildren(...items);
      offset += page.items.length;
      count.textContent = page.total === 0
        ? "No questions match. Try fewer filters or other words."
        : `${page.total} question${page.total === 1 ? "" : "s"}${offset < page.total ? ` — showing ${offset}` : ""}`;
      more.hidden = offset >= page.total;
    } catch (err) {
      if (mine !== requestId) return;
      count.textContent = "";
      error.show(err.status === 422 ? "Use letters or numbers in the search." : err.message);
    }
  };

  filters.addEventListener("submit", (ev) => { ev.preventDefault(); load(false); });
  filters.addEventListener("change", (ev) => { if (ev.target.tagName === "SELECT") load(false); });
  let typing = null;
  search.addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(() => load(false), SEARCH_DELAY_MS); });
  ctx.onLeave(() => clearTimeout(typing));
  more.addEventListener("click", () => load(true));

  root.append(
    h("h1", {}, "Question bank"),
    h("p", { class: "lede" }, "Find questions to rehearse. Type an answer to have it scored, or practise one out loud with the interviewer."),
    filters, count, error, list, more);
  await load(false);
}
