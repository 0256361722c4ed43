// Dashboard: recent sessions with scores, overall score over time, the skill radar, weakest
// areas with the next suggested practice, and the practice streak.

import { del, get } from "../api.js";
import { loadCatalog, sessionTitle } from "../catalog.js";
import { PALETTE, chartFigure, destroyAll, draw, lineDataset } from "../charts.js";
import { sharingSection } from "../coach-shares.js";
import { announce, confirmButton, formatDate, formatDateTime, h, humanize, loading, scorePill } from "../ui.js";

const DAY_MS = 24 * 3600 * 1000;

/** Local calendar day of a timestamp, "2026-11-22". */
// Practice days are calendar days in UTC, as the API counts the streak.
function dayKey(date) {
  return new Date(date).toISOString().slice(0, 10);
}

/**
 * Days practised in a row, ending today or yesterday, and the set of days practised. The API's
 * own `streak_days` / `practice_days` are used when it sends them.
 */
export function practiceStreak(progress, sessions, now = new Date()) {
  const days = new Set();
  if (Array.isArray(progress && progress.practice_days)) {
    for (const d of progress.practice_days) days.add(typeof d === "string" && d.length === 10 ? d : dayKey(d.date || d));
  } else {
    for (const s of sessions) days.add(dayKey(s.started_at || s.created_at));
    for (const e of (progress && progress.history) || []) if (e.status !== "scheduled") days.add(dayKey(e.at));
  }
  let streak = 0;
  let cursor = new Date(now);
  if (!days.has(dayKey(cursor))) cursor = new Date(cursor.getTime() - DAY_MS);
  while (days.has(dayKey(cursor))) {
    streak += 1;
    cursor = new Date(cursor.getTime() - DAY_MS);
  }
  if (progress && typeof progress.streak_days === "number") streak = progress.streak_days;
  return { streak, days };
}

function emptyState(user) {
  return h("section", { class: "card empty-state", "aria-labelledby": "empty-title" },
    h("h2", { id: "empty-title" }, "Your first mock interview is ten minutes away"),
    h("p", {}, "Talk with an AI interviewer out loud, the way you will on the day. Afterwards you get a scorecard, ",
      "feedback on every answer with a stronger example, and a plan for what to practise next."),
    h("ol", { class: "how" },
      h("li", {}, "Choose a role, a round and an interviewer."),
      h("li", {}, "Check your camera and microphone, and decide what may be recorded."),
      h("li", {}, "Answer the questions out loud."),
      h("li", {}, "Review your scores, key moments and drills.")),
    h("div", { class: "actions" },
      h("a", { class: "button", href: "#/new" }, "Start your first interview"),
      h("a", { class: "button secondary", href: "#/questions" }, "Browse the question bank")),
    h("p", { class: "muted" }, user && user.display_name ? `Good luck, ${user.display_name}!` : "Good luck!"));
}

function stat(label, value, detail, id) {
  return h("div", { class: "stat", id },
    h("p", { class: "stat-value" }, value),
    h("p", { class: "stat-label" }, label),
    detail ? h("p", { class: "stat-detail" }, detail) : null);
}

function streakStrip(days, now = new Date()) {
  const items = [];
  for (let i = 6; i >= 0; i -= 1) {
    const d = new Date(now.getTime() - i * DAY_MS);
    const practised = days.has(dayKey(d));
    const name = d.toLocaleDateString(undefined, { weekday: "short", timeZone: "UTC" });
    items.push(h("li", { class: practised ? "day practised" : "day" },
      h("span", { "aria-hidden": "true" }, name.slice(0, 2)),
      h("span", { class: "visually-hidden" }, `${d.toLocaleDateString(undefined, { weekday: "long", timeZone: "UTC" })}: ${practised ? "practised" : "no practice"}`)));
  }
  return h("ol", { class: "streak-strip", "aria-label": "The last seven days" }, items);
}

function focusCard(progress, insights, labels) {
  const focus = (progress && progress.focus) || [];
  const plan = (progress && progress.weekly_plan) || [];
  const next = plan[0];
  const insight = ((insights && insights.insights) || [])[0];
  return h("section", { class: "card", "aria-labelledby": "focus-title", id: "focus" },
    h("h2", { id: "focus-title" }, "What to work on"),
    focus.length
      ? h("div", {}, h("h3", {}, "Weakest areas"),
        h("ul", { class: "tag-list", id: "weakest" }, focus.map((d) => h("li", { class: "tag" }, labels[d] || humanize(d)))))
      : h("p", { class: "muted" }, "Finish a scored interview to see your weakest areas."),
    next
      ? h("div", { class: "next-practice" },
        h("h3", {}, "Next suggested practice"),
        h("p", { class: "next-title" }, h("strong", {}, next.title), ` · ${next.minutes} min`),
        h("p", {}, next.detail),
        h("a", { class: "button", href: next.kind === "mock_interview" ? "#/new" : "#/questions" },
          next.kind === "mock_interview" ? "Start a mock interview" : "Practise in the question bank"))
      : null,
    insight ? h("div", { class: "insight" }, h("h3", {}, "Pattern we noticed"), h("p", {}, h("strong", {}, insight.title), " — ", insight.detail)) : null,
    plan.length > 1
      ? h("details", { class: "plan" }, h("summary", {}, "This week's plan"),
        h("ol", {}, plan.map((d) => h("li", {}, h("strong", {}, `Day ${d.day}: ${d.title}`), ` (${d.minutes} min) — ${d.detail}`))))
      : null);
}

function recentList(sessions, historyById, catalog) {
  return h("section", { class: "card", "aria-labelledby": "recent-title" },
    h("h2", { id: "recent-title" }, "Recent sessions"),
    h("ul", { class: "session-list", id: "recent-sessions" }, sessions.map((s) => {
      const entry = historyById.get(s.id);
      const overall = entry ? entry.overall : null;
      const ended = !["scheduled", "live"].includes(s.status);
      return h("li", { class: "session-row", dataset: { sessionId: s.id } },
        scorePill("Overall score", overall),
        h("div", { class: "session-meta" },
          h("a", { href: ended ? `#/sessions/${s.id}` : `#/room/${s.id}`, class: "session-link" }, sessionTitle(catalog, s)),
          h("p", { class: "muted" }, `${formatDateTime(s.created_at)} · ${humanize(s.difficulty)} · ${s.duration_min} min · ${humanize(s.status)}`)),
        ended ? h("a", { class: "button secondary small", href: `#/sessions/${s.id}`, "aria-label": `Review ${sessionTitle(catalog, s)} from ${formatDate(s.created_at)}` }, "Review") : null);
    })));
}

function accountSection(ctx) {
  const user = ctx.app.user;
  return h("section", { class: "card account", id: "account", "aria-labelledby": "account-title" },
    h("h2", { id: "account-title" }, "Your account"),
    h("p", { class: "muted" }, `Signed in as ${user ? user.email : "you"}.`),
    h("p", {}, h("a", { href: "#/account/activity", id: "activity-link" }, "See your activity log"), " — sign-ins, shares, coaches who watched, exports and deletions."),
    confirmButton({
      id: "delete-account",
      label: "Delete my account",
      question: "Delete your account and every interview, transcript, signal, score and export in it? This cannot be undone.",
      confirmLabel: "Yes, delete everything",
      action: async () => {
        await del("/v1/users/me");
        ctx.signedIn(null);
        announce("Your account and all its data were deleted.");
        ctx.navigate("#/signup");
      },
    }));
}

export async function render(root, ctx) {
  const charts = [];
  ctx.onLeave(() => destroyAll(charts));
  const user = ctx.app.user;
  const heading = h("h1", {}, user && user.display_name ? `Welcome back, ${user.display_name}` : "Your dashboard");
  const body = h("div", { class: "dashboard" }, loading("your progress"));
  root.append(h("div", { class: "page-head" }, heading, h("a", { class: "button", href: "#/new" }, "New interview")), body);

  const [sessions, catalog] = await Promise.all([get("/v1/sessions?limit=20"), loadCatalog().catch(() => null)]);
  if (!sessions.length) {
    heading.textContent = user && user.display_name ? `Welcome, ${user.display_name}` : "Welcome to Greenroom";
    body.replaceChildren(emptyState(user), sharingSection({ id: "sharing", title: "Coaches", compact: true }), accountSection(ctx));
    return;
  }
  const [progress, insights] = await Promise.all([
    get("/v1/users/me/progress").catch(() => null),
    get("/v1/users/me/insights").catch(() => null),
  ]);
  if (!ctx.isCurrent()) return;
  const history = (progress && progress.history) || [];
  const historyById = new Map(history.map((e) => [e.session_id, e]));
  const labels = Object.fromEntries(((progress && progress.trends) || []).map((t) => [t.dimension, t.label]));
  const { streak, days } = practiceStreak(progress, sessions);
  const agg = progress && progress.aggregates;

  const stats = h("section", { class: "stats", "aria-label": "Your numbers" },
    stat("day practice streak", String(streak), streak ? "Keep it going today." : "Practise today to start one.", "streak"),
    stat("interviews completed", String(agg ? agg.completed : sessions.filter((s) => s.status === "completed").length)),
    stat("minutes practised", String(agg ? Math.round(agg.practice_minutes) : 0)),
    stat("best overall score", agg && agg.best_overall != null ? String(agg.best_overall) : "–"),
    streakStrip(days));

  // Overall score over time, oldest first.
  const scored = history.filter((e) => e.overall !== null).reverse();
  const trendFigure = chartFigure({
    id: "progress-chart",
    label: "Line chart of your overall interview score over time",
    summary: scored.length
      ? `Overall score across ${scored.length} scored session${scored.length === 1 ? "" : "s"}: ${scored.map((e) => `${formatDate(e.at)} ${e.overall}`).join(", ")}.`
      : "No scored sessions yet.",
  });
  const latest = scored[scored.length - 1];
  const previous = scored[scored.length - 2];
  const dims = latest ? Object.keys(latest.dimensions) : [];
  const radarFigure = chartFigure({
    id: "skills-chart",
    label: "Radar chart of your latest scores by skill",
    summary: latest
      ? `Latest session by skill: ${dims.map((d) => `${labels[d] || humanize(d)} ${latest.dimensions[d] ?? "not scored"}`).join(", ")}.`
      : "No scored sessions yet.",
  });

  body.replaceChildren(
    stats,
    h("div", { class: "grid-2" },
      h("section", { class: "card", "aria-labelledby": "trend-title" }, h("h2", { id: "trend-title" }, "Overall score over time"), trendFigure.figure),
      h("section", { class: "card", "aria-labelledby": "radar-title" }, h("h2", { id: "radar-title" }, "Skills"), radarFigure.figure)),
    h("div", { class: "grid-2" }, focusCard(progress, insights, labels), recentList(sessions, historyById, catalog)),
    sharingSection({ id: "sharing", title: "Coaches", compact: true }),
    accountSection(ctx),
  );

  if (scored.length) {
    draw(trendFigure.canvas, {
      type: "line",
      data: {
        labels: scored.map((e) => formatDate(e.at)),
        datasets: [lineDataset("Overall", scored.map((e) => e.overall), PALETTE.accent, { fill: false })],
      },
      options: { scales: { y: { min: 0, max: 100, title: { display: true, text: "Score" } } }, plugins: { legend: { display: false } } },
    }, charts);
  }
  if (latest) {
    const datasets = [{
      label: "Latest", data: dims.map((d) => latest.dimensions[d]), borderColor: PALETTE.accent,
      backgroundColor: "rgba(62, 207, 142, 0.2)", pointBackgroundColor: PALETTE.accent,
    }];
    if (previous) {
      datasets.push({
        label: "Previous", data: dims.map((d) => previous.dimensions[d]), borderColor: PALETTE.blue,
        backgroundColor: "rgba(138, 180, 255, 0.12)", pointBackgroundColor: PALETTE.blue, borderDash: [4, 4],
      });
    }
    draw(radarFigure.canvas, {
      type: "radar",
      data: { labels: dims.map((d) => labels[d] || humanize(d)), datasets },
      options: {
        scales: {
          r: {
            min: 0, max: 100,
            // The rings mark 25-point steps; numbers on them would sit on the data (the text summary has the scores).
            ticks: { stepSize: 25, display: false },
            pointLabels: { font: { size: 13 } },
            grid: { color: PALETTE.grid }, angleLines: { color: PALETTE.grid },
          },
        },
      },
    }, charts);
  }
}
