// An organisation. Its owners and admins see the cohort (members who share with it: score
// trends, weakest areas, practice streaks, who has not practised this week), the members,
// invitation links and the organisation's audit log. A member sees the organisation, shares
// their interviews with it or stops, and can leave.

import { del, get, post } from "../api.js";
import { auditSection } from "../audit.js";
import { PALETTE, chartFigure, destroyAll, draw } from "../charts.js";
import { announce, confirmButton, errorBox, formatDate, formatDateTime, h, humanize, loading, scorePill } from "../ui.js";

const ROLES = { owner: "Owner", admin: "Admin", member: "Member" };
const EXPIRIES = [[24, "1 day"], [168, "7 days"], [720, "30 days"]];
const SERIES_COLOURS = [PALETTE.accent, PALETTE.blue, PALETTE.amber, PALETTE.pink, PALETTE.violet, "#7fd8d1", "#e59866", "#b5d86a"];

const areaName = (a) => a.label || humanize(a.dimension);
/** A mean score as the page shows it: a whole number (halves round up, as Math.round does). */
const meanText = (mean) => (mean === null || mean === undefined ? "–" : String(Math.round(mean)));
/** A member's scored sessions, oldest first. */
const trendOf = (member) => (member.score_trend || []).filter((p) => p.overall !== null && p.overall !== undefined)
  .slice().sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));

function areaList(areas, id) {
  return areas.length
    ? h("ul", { class: "tag-list", id }, areas.map((a) => h("li", { class: "tag", dataset: { dimension: a.dimension, mean: String(a.mean) } },
      `${areaName(a)} `, h("span", { class: "muted" }, meanText(a.mean)))))
    : h("p", { class: "muted", id }, "Not enough scored interviews yet.");
}

function cohortTable(members) {
  return h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Cohort members" },
    h("table", { class: "data-table cohort-table", id: "cohort-table" },
      h("caption", { class: "visually-hidden" }, "Each member who shares with the organisation"),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Member"),
        h("th", { scope: "col" }, "Interviews"),
        h("th", { scope: "col" }, "Latest score"),
        h("th", { scope: "col" }, "Score trend"),
        h("th", { scope: "col" }, "Streak (days)"),
        h("th", { scope: "col" }, "Last practised"),
        h("th", { scope: "col" }, "This week"),
        h("th", { scope: "col" }, "Weakest areas"))),
      h("tbody", {}, members.map((m) => {
        const trend = trendOf(m);
        const latest = trend.length ? trend[trend.length - 1].overall : null;
        return h("tr", { dataset: { userId: m.user_id } },
          h("th", { scope: "row", class: "member-name" }, m.display_name || "A member"),
          h("td", { class: "num", dataset: { field: "sessions" } }, String(m.sessions)),
          h("td", { dataset: { field: "latest" } }, scorePill(`${m.display_name || "Member"}'s latest score`, latest, "small")),
          h("td", { class: "trend", dataset: { field: "trend" } }, trend.length ? trend.map((p) => p.overall).join(" → ") : "–"),
          h("td", { class: "num", dataset: { field: "streak" } }, String(m.streak_days)),
          h("td", { dataset: { field: "last" } }, m.last_practised_at ? formatDate(m.last_practised_at) : "never"),
          h("td", { dataset: { field: "week" } }, m.practised_this_week ? "Practised" : h("span", { class: "caution" }, "Not yet")),
          h("td", { dataset: { field: "weakest" } }, (m.weakest_areas || []).map(areaName).join(", ") || "–"));
      }))));
}

function cohortSection(dashboard, charts) {
  const members = dashboard.members || [];
  const idle = dashboard.not_practised_this_week || [];
  const scoredMembers = members.filter((m) => trendOf(m).length);
  const figure = chartFigure({
    id: "cohort-chart",
    label: "Line chart of each member's overall interview score over time",
    summary: scoredMembers.length
      ? `Overall scores: ${scoredMembers.map((m) => `${m.display_name || "A member"} ${trendOf(m).map((p) => p.overall).join(", ")}`).join("; ")}.`
      : "No scored interviews yet.",
    height: "18rem",
  });
  const section = h("section", { class: "card", id: "cohort", "aria-labelledby": "cohort-title" },
    h("h2", { id: "cohort-title" }, "Cohort"),
    h("p", { class: "muted" }, "Members who share their interviews with the organisation. A member who stops sharing leaves this view at once."),
    h("div", { class: "stats cohort-stats" },
      h("div", { class: "stat", id: "cohort-sharing" }, h("p", { class: "stat-value" }, String(members.length)), h("p", { class: "stat-label" }, "members sharing")),
      h("div", { class: "stat", id: "cohort-idle" }, h("p", { class: "stat-value" }, String(idle.length)), h("p", { class: "stat-label" }, "not practised this week")),
      h("div", { class: "stat", id: "cohort-sessions" }, h("p", { class: "stat-value" }, String(members.reduce((n, m) => n + m.sessions, 0))), h("p", { class: "stat-label" }, "interviews shared"))),
    members.length
      ? [
        h("div", { class: "grid-2" },
          h("div", {},
            h("h3", {}, "Not practised this week"),
            idle.length
              ? h("ul", { class: "tag-list", id: "not-practised" }, idle.map((m) => h("li", { class: "tag", dataset: { userId: m.user_id } }, m.display_name || "A member")))
              : h("p", { class: "muted", id: "not-practised" }, "Everyone has practised this week.")),
          h("div", {},
            h("h3", {}, "Weakest areas across the cohort"),
            areaList(dashboard.weakest_areas || [], "cohort-weakest"))),
        h("h3", {}, "Score trends"),
        figure.figure,
        h("h3", {}, "Members"),
        cohortTable(members),
      ]
      : h("p", { class: "muted", id: "cohort-empty" }, "No member shares with the organisation yet. Members share from their dashboard or from this organisation's page."));
  section.drawChart = () => {
    if (!scoredMembers.length) return;
    draw(figure.canvas, {
      type: "line",
      data: {
        datasets: scoredMembers.map((m, i) => ({
          label: m.display_name || "A member",
          data: trendOf(m).map((p) => ({ x: Date.parse(p.started_at), y: p.overall })),
          borderColor: SERIES_COLOURS[i % SERIES_COLOURS.length],
          backgroundColor: SERIES_COLOURS[i % SERIES_COLOURS.length],
          pointRadius: 3,
          borderWidth: 2,
          tension: 0.2,
        })),
      },
      options: {
        parsing: true,
        scales: {
          x: { type: "linear", ticks: { callback: (v) => formatDate(v), maxTicksLimit: 6 } },
          y: { min: 0, max: 100, title: { display: true, text: "Score" } },
        },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 14 } },
          tooltip: { callbacks: { title: (items) => formatDate(items[0].parsed.x) } },
        },
      },
    }, charts);
  };
  return section;
}

function membersSection(org, me, reload) {
  const canRemove = (m) => m.role !== "owner" && m.user_id !== (me && me.id) && (org.role === "owner" || m.role === "member");
  return h("section", { class: "card", id: "members", "aria-labelledby": "members-title" },
    h("h2", { id: "members-title" }, `Members (${org.members.length})`),
    h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Members" },
      h("table", { class: "data-table", id: "members-table" },
        h("caption", { class: "visually-hidden" }, "Members of the organisation"),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Email"), h("th", { scope: "col" }, "Role"),
          h("th", { scope: "col" }, "Joined"), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")))),
        h("tbody", {}, org.members.map((m) => h("tr", { dataset: { userId: m.user_id } },
          h("th", { scope: "row" }, m.display_name || "—"),
          h("td", {}, m.email || ""),
          h("td", {}, ROLES[m.role] || humanize(m.role)),
          h("td", {}, formatDate(m.joined_at)),
          h("td", {}, canRemove(m)
            ? confirmButton({
              id: `remove-${m.user_id}`,
              label: "Remove",
              question: `Remove ${m.display_name || m.email} from ${org.name}? Their shares with the organisation stop counting.`,
              confirmLabel: "Yes, remove",
              action: async () => {
                await del(`/v1/orgs/${org.id}/members/${m.user_id}`);
                announce(`Removed ${m.display_name || m.email}.`);
                await reload();
              },
            })
            : null)))))));
}

function invitesSection(org) {
  const role = h("select", { id: "invite-role" }, h("option", { value: "member" }, "Member (a candidate)"), h("option", { value: "admin" }, "Admin (a coach who sees the cohort)"));
  const expires = h("select", { id: "invite-expires" }, EXPIRIES.map(([hours, label]) => h("option", { value: String(hours), selected: hours === 168 }, label)));
  const error = errorBox("invite-error");
  const submit = h("button", { type: "submit", id: "invite-create" }, "Create invitation link");
  const made = h("ul", { class: "invite-list", id: "invite-links" });
  const form = h("form", { class: "invite-form", novalidate: true },
    h("div", { class: "grid-2 tight" },
      h("div", { class: "field" }, h("label", { for: "invite-role" }, "Joins as"), role),
      h("div", { class: "field" }, h("label", { for: "invite-expires" }, "Link works for"), expires)),
    error, submit);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.clear();
    submit.disabled = true;
    try {
      const invite = await post(`/v1/orgs/${org.id}/invites`, { role: role.value, expires_in_hours: Number(expires.value) });
      const url = `${location.origin}${invite.url}`;
      const fieldId = `invite-url-${invite.id}`;
      const field = h("input", { id: fieldId, type: "text", readonly: true, value: url, spellcheck: "false" });
      field.addEventListener("focus", () => field.select());
      const status = h("p", { class: "hint", role: "status", "aria-live": "polite" }, `${ROLES[role.value]} · works until ${formatDateTime(invite.expires_at)}, once.`);
      const copy = h("button", { type: "button", class: "secondary" }, "Copy");
      copy.addEventListener("click", async () => {
        field.focus();
        try {
          await navigator.clipboard.writeText(url);
          status.textContent = "Link copied.";
        } catch (_) {
          status.textContent = "The link is selected: press Ctrl+C (⌘C) to copy it.";
        }
      });
      const revoke = h("button", { type: "button", class: "danger-outline", id: `invite-revoke-${invite.id}` }, "Revoke");
      const item = h("li", { dataset: { inviteId: invite.id } },
        h("label", { for: fieldId }, "Invitation link"),
        h("div", { class: "copy-row" }, field, copy, revoke), status);
      revoke.addEventListener("click", async () => {
        revoke.disabled = true;
        try {
          await del(`/v1/orgs/${org.id}/invites/${invite.id}`);
          field.disabled = true;
          copy.disabled = true;
          status.textContent = "Revoked: this link no longer works.";
        } catch (err) {
          status.textContent = `Could not revoke: ${err.message}`;
          revoke.disabled = false;
        }
      });
      made.prepend(item);
      field.focus();
      announce("Invitation link created.");
    } catch (err) {
      error.show(err.message);
    } finally {
      submit.disabled = false;
    }
  });
  const pending = (org.invites || []).filter((i) => !made.querySelector(`[data-invite-id="${i.id}"]`));
  const pendingList = h("ul", { class: "share-list", id: "pending-invites" }, pending.map((i) => {
    const revoke = h("button", { type: "button", class: "danger-outline small", id: `invite-revoke-${i.id}`,
      "aria-label": `Revoke the ${ROLES[i.role] || i.role} invitation that expires ${formatDateTime(i.expires_at)}` }, "Revoke");
    const row = h("li", { class: "share-row", dataset: { inviteId: i.id } },
      h("span", {}, `${ROLES[i.role] || humanize(i.role)} · works until ${formatDateTime(i.expires_at)}`), revoke);
    revoke.addEventListener("click", async () => {
      revoke.disabled = true;
      try {
        await del(`/v1/orgs/${org.id}/invites/${i.id}`);
        row.remove();
        announce("Invitation revoked.");
      } catch (err) {
        error.show(`Could not revoke: ${err.message}`);
        revoke.disabled = false;
      }
    });
    return row;
  }));
  return h("section", { class: "card", id: "invites", "aria-labelledby": "invites-title" },
    h("h2", { id: "invites-title" }, "Invite people"),
    h("p", { class: "muted" }, "Each link lets one person join, until it expires. Send it to them yourself."),
    form, made,
    pending.length ? h("details", { class: "share-new" }, h("summary", {}, `Unused invitations (${pending.length})`), pendingList) : null);
}

/** A member's own view: share with the organisation or stop, and leave. */
function memberSection(org, me, ctx) {
  const status = h("p", { class: "hint", role: "status", "aria-live": "polite" });
  const error = errorBox("org-share-error");
  const box = h("div", {});
  const refresh = async () => {
    let shares = [];
    try { shares = await get("/v1/coach-shares"); } catch (err) { error.show(err.message); }
    const mine = shares.filter((s) => s.org && s.org.id === org.id);
    const all = mine.find((s) => !s.session_id);
    const share = h("button", { type: "button", id: "org-share-all" }, `Share all my interviews with ${org.name}`);
    share.addEventListener("click", async () => {
      share.disabled = true;
      error.clear();
      try {
        await post("/v1/coach-shares", { session_id: null, coach_email: null, org_id: org.id });
        status.textContent = `Your interviews are shared with ${org.name}.`;
        await refresh();
      } catch (err) {
        error.show(err.message);
        share.disabled = false;
      }
    });
    box.replaceChildren(
      mine.length
        ? h("p", { id: "org-share-state" }, all ? `${org.name}'s coaches can see all your interviews.` : `${org.name}'s coaches can see ${mine.length} of your interviews.`)
        : h("p", { id: "org-share-state", class: "muted" }, `You do not share your interviews with ${org.name}.`),
      h("div", { class: "actions" },
        all ? null : share,
        ...mine.map((s) => {
          const stop = h("button", { type: "button", class: "danger-outline", id: `revoke-share-${s.id}` }, s.session_id ? "Stop sharing one interview" : "Stop sharing");
          stop.addEventListener("click", async () => {
            stop.disabled = true;
            try {
              await del(`/v1/coach-shares/${s.id}`);
              status.textContent = "Stopped sharing.";
              await refresh();
            } catch (err) {
              error.show(err.message);
              stop.disabled = false;
            }
          });
          return stop;
        })));
  };
  refresh();
  return h("section", { class: "card", id: "org-membership", "aria-labelledby": "membership-title" },
    h("h2", { id: "membership-title" }, "Your membership"),
    h("p", {}, `You are ${org.role === "admin" ? "an admin" : "a member"} of ${org.name}. Its owners and admins see the interviews you share with it, and your practice in the cohort view.`),
    box, status, error,
    org.role !== "owner"
      ? confirmButton({
        id: "leave-org",
        label: "Leave the organisation",
        question: `Leave ${org.name}? Its coaches stop seeing what you shared with it.`,
        confirmLabel: "Yes, leave",
        action: async () => {
          await del(`/v1/orgs/${org.id}/members/${me.id}`);
          announce(`You left ${org.name}.`);
          ctx.navigate("#/coaching");
        },
      })
      : null);
}

export async function render(root, ctx) {
  const orgId = ctx.params[0];
  const charts = [];
  ctx.onLeave(() => destroyAll(charts));
  const heading = h("h1", {}, "Organisation");
  const lede = h("p", { class: "lede", id: "org-role" });
  const body = h("div", { class: "org" }, loading("the organisation"));
  root.append(h("div", { class: "page-head" }, h("div", {}, heading, lede), h("a", { class: "button secondary", href: "#/coaching" }, "Coaching")), body);
  const me = ctx.app.user;

  const show = async () => {
    let org;
    try {
      org = await get(`/v1/orgs/${orgId}`);
    } catch (err) {
      if (!ctx.isCurrent()) return;
      body.replaceChildren(h("p", { class: "error", role: "alert" }, err.status === 404 ? "This organisation does not exist, or you are not a member of it." : err.message));
      return;
    }
    const manager = org.role === "owner" || org.role === "admin";
    const dashboard = manager ? await get(`/v1/orgs/${orgId}/dashboard`).catch(() => null) : null;
    if (!ctx.isCurrent()) return;
    heading.textContent = org.name;
    lede.textContent = `You are ${org.role === "owner" ? "the owner" : org.role === "admin" ? "an admin" : "a member"} of this organisation.`;
    destroyAll(charts);
    if (!manager) {
      body.replaceChildren(memberSection(org, me, ctx));
      return;
    }
    const cohort = dashboard ? cohortSection(dashboard, charts) : h("p", { class: "error", role: "alert" }, "Could not load the cohort.");
    const log = auditSection({
      path: `/v1/orgs/${orgId}/audit`,
      id: "org-audit",
      title: "Activity",
      intro: "Invitations, members joining and leaving, shares with the organisation and coaches watching.",
    });
    body.replaceChildren(...[cohort, membersSection({ ...org, members: org.members || [] }, me, show), invitesSection(org),
      org.role === "admin" ? memberSection(org, me, ctx) : null, log].filter(Boolean));
    if (cohort.drawChart) cohort.drawChart();
    log.load();
    announce(`${org.name} loaded.`);
  };
  await show();
}
