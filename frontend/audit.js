// An audit log as a table, page by page: who did what and when (GET /v1/me/audit and
// GET /v1/orgs/{id}/audit answer the same rows).

import { get, query } from "./api.js";
import { clock, errorBox, formatDateTime, h, humanize } from "./ui.js";

const PAGE_SIZE = 50;
const ACTIONS = {
  sign_in: "Signed in",
  share_created: "Shared",
  share_revoked: "Stopped sharing",
  coach_joined: "A coach started watching",
  export_created: "Exported a report",
  session_deleted: "Deleted an interview",
  account_deleted: "Deleted an account",
  org_joined: "Joined the organisation",
  member_removed: "Removed from the organisation",
  invite_created: "Created an invitation",
  note_added: "Added a coach note",
  note_hidden: "Hid a coach note",
  note_deleted: "Deleted a coach note",
};

/** What an action is called on the page. */
export const actionLabel = (action) => ACTIONS[action] || humanize(action);

// How the detail's values read; ids are left out (the row's link leads to its interview).
const DETAIL = {
  with: (v) => (v === "org" ? "with the organisation" : "with a coach"),
  scope: (v) => (v === "all" ? "all interviews" : "one interview"),
  via: (v) => (v === "org" ? "through the organisation" : "as a coach"),
  role: (v) => `as ${v}`,
  format: (v) => String(v).toUpperCase(),
  as: (v) => `as ${v}`,
  t_ms: (v) => `at ${clock(v / 1000)}`,
  expires_at: (v) => `expires ${formatDateTime(v)}`,
  first: (v) => (v ? "first sign-in" : null),
};

/** A row's detail in a few words (the log never holds transcripts or answers). */
function detailText(entry) {
  return Object.entries(entry.detail || {})
    .filter(([k, v]) => v !== null && v !== undefined && v !== "" && typeof v !== "object" && !/(^|_)id$/.test(k))
    .map(([k, v]) => (DETAIL[k] ? DETAIL[k](v) : `${humanize(k)}: ${v}`))
    .filter(Boolean)
    .join(" · ");
}

/**
 * A section listing the log at `path`, newest first, with "Show older" to page on. `id` is the
 * table's id; `sessionLink(id)` turns a session id into a link (or null for none).
 */
export function auditSection({ path, id, title, intro, sessionLink = () => null }) {
  const tbody = h("tbody", {});
  const table = h("table", { class: "data-table audit-table", id },
    h("caption", { class: "visually-hidden" }, title),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "When"), h("th", { scope: "col" }, "What"), h("th", { scope: "col" }, "Who"), h("th", { scope: "col" }, "Details"))),
    tbody);
  const empty = h("p", { class: "muted", hidden: true, id: `${id}-empty` }, "Nothing recorded yet.");
  const more = h("button", { type: "button", class: "secondary", id: `${id}-more`, hidden: true }, "Show older");
  const error = errorBox(`${id}-error`);
  let offset = 0;

  const load = async () => {
    more.disabled = true;
    error.clear();
    let rows;
    try {
      rows = await get(`${path}${query({ limit: PAGE_SIZE, offset })}`);
    } catch (err) {
      error.show(`Could not load the log: ${err.message}`);
      more.disabled = false;
      return;
    }
    offset += rows.length;
    tbody.append(...rows.map((e) => {
      const link = e.session_id && e.action !== "session_deleted" ? sessionLink(e.session_id) : null;
      return h("tr", { dataset: { action: e.action } },
        h("td", {}, h("time", { datetime: e.at }, formatDateTime(e.at))),
        h("td", {}, actionLabel(e.action)),
        h("td", {}, e.actor_name || "—"),
        h("td", {}, detailText(e), link ? [detailText(e) ? " · " : "", h("a", { href: link }, "the interview")] : null));
    }));
    empty.hidden = offset > 0;
    table.hidden = offset === 0;
    more.hidden = rows.length < PAGE_SIZE;
    more.disabled = false;
  };
  more.addEventListener("click", load);
  const section = h("section", { class: "card", id: `${id}-section`, "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title` }, title),
    intro ? h("p", { class: "muted" }, intro) : null,
    h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": title }, table), empty, error, more);
  section.load = load;
  return section;
}
