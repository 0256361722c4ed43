// New interview: role track, round type, difficulty, duration, interviewer, optional CV and job
// description. Nothing is sent yet: the choices wait in the tab until the candidate joins.

import { loadCatalog } from "../catalog.js";
import { errorBox, h, humanize } from "../ui.js";

const MAX_TEXT = 20000;

function select(id, name, labelText, choices, selected) {
  return h("div", { class: "field" },
    h("label", { for: id }, labelText),
    h("select", { id, name }, choices.map((c) => h("option", { value: c.id, selected: c.id === selected }, c.label || c.name || humanize(c.id)))));
}

function radioGroup(name, legend, choices, selected, describe) {
  return h("fieldset", { class: "choice-group" },
    h("legend", {}, legend),
    h("div", { class: "choices" }, choices.map((c) => {
      const id = `${name}-${c.id}`;
      return h("div", { class: "choice" },
        h("input", { type: "radio", name, id, value: String(c.id), checked: String(c.id) === String(selected) }),
        h("label", { for: id }, h("span", { class: "choice-name" }, c.label || c.name), describe ? h("span", { class: "choice-detail" }, describe(c)) : null));
    })));
}

function textArea(id, name, labelText, hint, value) {
  return h("div", { class: "field wide" },
    h("label", { for: id }, labelText),
    h("p", { class: "hint", id: `${id}-hint` }, hint),
    h("textarea", { id, name, rows: "5", maxlength: String(MAX_TEXT), "aria-describedby": `${id}-hint` }, value || ""));
}

const MAX_PANEL_OTHERS = 2;

/** Optional panel: up to two more interviewers join the one chosen above, who leads. */
function panelChoice(personas, panel) {
  const chosen = new Set(panel.slice(1));
  return h("details", { class: "panel-choice", id: "panel-choice", open: chosen.size > 0 },
    h("summary", {}, "Interview with a panel (optional): choose one or two more interviewers"),
    h("p", { class: "muted" }, "Each introduces themselves and asks the questions in their field; the interviewer chosen above leads."),
    h("fieldset", {},
      h("legend", { class: "visually-hidden" }, "Panel members"),
      // Labelled by role (the name is its description), so a label names one control only.
      ...personas.map((p) => h("div", { class: "check" },
        h("input", { type: "checkbox", name: "panel", id: `panel-${p.id}`, value: p.id, checked: chosen.has(p.id), "aria-describedby": `panel-${p.id}-who` }),
        h("label", { for: `panel-${p.id}` }, ` ${p.role}`),
        h("span", { class: "muted", id: `panel-${p.id}-who` }, ` (${p.name})`)))));
}

export async function render(root, ctx) {
  const catalog = await loadCatalog();
  const draft = ctx.app.draft && !ctx.app.draft.practice_question_id ? ctx.app.draft : {};
  const error = errorBox("setup-error");
  const form = h("form", { class: "card setup-form", id: "setup-form", novalidate: true },
    h("div", { class: "grid-3" },
      select("role-track", "role_track", "Role track", catalog.role_tracks, draft.role_track || catalog.role_tracks[0].id),
      select("round-type", "round_type", "Round type", catalog.round_types, draft.round_type || catalog.round_types[0].id),
      select("difficulty", "difficulty", "Difficulty", catalog.difficulties, draft.difficulty || "medium")),
    radioGroup("duration_min", "Duration", catalog.durations_min.map((m) => ({ id: m, label: `${m} minutes` })), draft.duration_min || catalog.durations_min[0]),
    radioGroup("persona", "Interviewer", catalog.personas, draft.persona || catalog.default_persona, (p) => p.description),
    panelChoice(catalog.personas, draft.panel || []),
    h("details", { class: "context", open: Boolean(draft.cv_text || draft.jd_text) },
      h("summary", {}, "Tailor the questions (optional): your CV and the job description"),
      h("p", { class: "muted" }, "Paste plain text. It is sent only when you join the interview, and kept with that session."),
      textArea("cv-text", "cv_text", "Your CV", "Work history, projects, education — whatever you'd bring to the interview.", draft.cv_text),
      textArea("jd-text", "jd_text", "Job description", "The advert or the role's description.", draft.jd_text)),
    error,
    h("div", { class: "actions" }, h("button", { type: "submit", id: "to-mirror" }, "Continue to mirror check")));

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const text = (name) => (data.get(name) || "").trim() || null;
    const lead = data.get("persona");
    const others = data.getAll("panel").filter((id) => id !== lead);
    if (others.length > MAX_PANEL_OTHERS) {
      error.show(`A panel has at most ${MAX_PANEL_OTHERS + 1} interviewers: choose up to ${MAX_PANEL_OTHERS} to join yours.`);
      return;
    }
    error.clear();
    ctx.app.draft = {
      role_track: data.get("role_track"),
      round_type: data.get("round_type"),
      difficulty: data.get("difficulty"),
      duration_min: Number(data.get("duration_min")),
      persona: lead,
      panel: others.length ? [lead, ...others] : null,
      cv_text: text("cv_text"),
      jd_text: text("jd_text"),
    };
    ctx.navigate("#/check");
  });

  root.append(
    h("h1", {}, "New interview"),
    h("p", { class: "lede" }, "Choose what to practise. Next you'll check your camera and microphone and decide what Greenroom may record."),
    h("ol", { class: "steps", "aria-label": "Steps" },
      h("li", { "aria-current": "step" }, "Choose"), h("li", {}, "Mirror check"), h("li", {}, "Interview"), h("li", {}, "Review")),
    form);
}
