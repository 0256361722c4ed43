// A report someone shared: read-only, no sign-in (the share token in the link is the key).

import { get } from "../api.js";
import { loadCatalog, sessionTitle } from "../catalog.js";
import { announce, clock, formatDateTime, h, humanize, loading } from "../ui.js";
import { answerItem, deliverySection, drillsSection, findingList, scorecardSection } from "./review.js";

/** Why a shared link does not open, in words for the person holding it. */
export function linkProblem(err) {
  if (err.status === 410) return "This link has expired or was withdrawn. Ask the candidate for a new one.";
  if (err.status === 404) return "This link is not valid. Check that it was copied in full.";
  return err.message;
}

export async function render(root, ctx) {
  const token = ctx.params[0];
  const subtitle = h("p", { class: "lede", id: "shared-subtitle" });
  const body = h("div", { class: "review" }, loading("the report"));
  root.append(h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Shared interview report"), subtitle)), body);

  let report;
  try {
    report = await get(`/v1/shared/${token}`);
  } catch (err) {
    body.replaceChildren(h("p", { class: "error", role: "alert", id: "shared-error" }, linkProblem(err)));
    return;
  }
  const catalog = await loadCatalog().catch(() => null);
  if (!ctx.isCurrent()) return;
  subtitle.textContent = `${sessionTitle(catalog, report)} · ${humanize(report.difficulty)} · ${formatDateTime(report.started_at)} · ${clock(report.duration_s)}`;
  const answersBySeq = new Map(report.answers.map((a) => [a.seq, a]));
  body.replaceChildren(...[
    h("p", { class: "callout info", id: "shared-note" }, "A read-only copy the candidate shared with you."),
    report.partial
      ? h("div", { class: "callout warning", id: "partial-banner", role: "status" },
        h("strong", {}, "This report is still being built. "), "These are the scores so far. ",
        h("button", { type: "button", class: "secondary", id: "refresh-report", onclick: () => ctx.navigate(location.hash) }, "Check for the final report"))
      : null,
    scorecardSection(report),
    h("div", { class: "grid-2" },
      findingList("Strengths", "strengths", report.scorecard.strengths, answersBySeq),
      findingList("To improve", "improvements", report.scorecard.improvements, answersBySeq)),
    h("section", { class: "card", id: "answers", "aria-labelledby": "answers-title" },
      h("h2", { id: "answers-title" }, "Answers"),
      report.answers.length ? report.answers.map((answer, index) => answerItem(answer, index, catalog)) : h("p", { class: "muted" }, "No questions were answered.")),
    h("div", { class: "grid-2" }, deliverySection(report), drillsSection(report.scorecard.drills)),
  ].filter(Boolean));
  announce(report.partial ? "Report so far loaded." : "Report loaded.");
}
