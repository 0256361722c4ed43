// The coach's dashboard: interviews candidates shared with me (live ones to watch, the rest to
// review), and my organisations, with a form to create one.

import { get, post } from "../api.js";
import { loadCatalog, sessionTitle } from "../catalog.js";
import { announce, errorBox, formatDateTime, h, humanize, loading } from "../ui.js";

const REFRESH_MS = 5000;
const ROLES = { owner: "Owner", admin: "Admin", member: "Member" };

function sharedRow(item, catalog) {
  const title = sessionTitle(catalog, item);
  const who = item.candidate ? item.candidate.display_name || "A candidate" : "A candidate";
  const when = formatDateTime(item.started_at || item.created_at);
  const action = item.live
    ? h("a", { class: "button small", href: `#/coaching/watch/${item.session_id}`, id: `watch-${item.session_id}`, "aria-label": `Watch ${who} live` }, "Watch live")
    : ["scheduled"].includes(item.status)
      ? h("a", { class: "button secondary small", href: `#/coaching/watch/${item.session_id}`, "aria-label": `Wait for ${who} to start` }, "Wait to watch")
      : h("a", { class: "button secondary small", href: `#/sessions/${item.session_id}`, "aria-label": `Review ${who}'s ${title}` }, "Review");
  return h("li", { class: "session-row", dataset: { sessionId: item.session_id } },
    h("span", { class: `live-dot${item.live ? " on" : ""}`, "aria-hidden": "true" }),
    h("div", { class: "session-meta" },
      h("p", { class: "session-link" }, `${who} · ${title}`),
      h("p", { class: "muted" }, [
        item.live ? "Live now" : humanize(item.status),
        when,
        item.via === "org" ? "through your organisation" : "shared with you",
      ].filter(Boolean).join(" · "))),
    action);
}

function sharedSection(items, catalog) {
  const live = items.filter((i) => i.live);
  const rest = items.filter((i) => !i.live);
  return h("section", { class: "card", id: "shared-with-me", "aria-labelledby": "shared-title" },
    h("h2", { id: "shared-title" }, "Interviews shared with you"),
    items.length
      ? [
        h("h3", {}, `Live now (${live.length})`),
        live.length
          ? h("ul", { class: "session-list", id: "live-sessions" }, live.map((i) => sharedRow(i, catalog)))
          : h("p", { class: "muted", id: "no-live" }, "Nobody is in an interview right now. This list updates by itself."),
        h("h3", {}, "Recent"),
        rest.length
          ? h("ul", { class: "session-list", id: "other-sessions" }, rest.map((i) => sharedRow(i, catalog)))
          : h("p", { class: "muted" }, "No other interviews yet."),
      ]
      : h("p", { class: "muted", id: "nothing-shared" },
        "No candidate has shared an interview with you yet. A candidate shares from their dashboard with the email you signed up with, or with an organisation you run."));
}

function orgsSection(orgs, ctx) {
  const name = h("input", { id: "org-name", type: "text", maxlength: "200", autocomplete: "organization" });
  const error = errorBox("org-error");
  const submit = h("button", { type: "submit", id: "org-create" }, "Create organisation");
  const form = h("form", { class: "inline-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "org-name" }, "Organisation name"), name), error, submit);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.clear();
    if (!name.value.trim()) {
      error.show("Enter a name for the organisation.");
      name.focus();
      return;
    }
    submit.disabled = true;
    try {
      const org = await post("/v1/orgs", { name: name.value.trim() });
      announce(`Created ${org.name}.`);
      ctx.navigate(`#/orgs/${org.id}`);
    } catch (err) {
      error.show(err.message);
      submit.disabled = false;
    }
  });
  return h("section", { class: "card", id: "my-orgs", "aria-labelledby": "orgs-title" },
    h("h2", { id: "orgs-title" }, "Your organisations"),
    orgs.length
      ? h("ul", { class: "plain org-list", id: "org-list" }, orgs.map((o) => h("li", { dataset: { orgId: o.id } },
        h("a", { href: `#/orgs/${o.id}` }, o.name), h("span", { class: "muted" }, ` · ${ROLES[o.role] || humanize(o.role)}`))))
      : h("p", { class: "muted" }, "You are not in an organisation. Create one for your institute's candidates, then invite them with a link."),
    h("details", { class: "share-new", open: orgs.length === 0 }, h("summary", {}, "Create an organisation"), form));
}

export async function render(root, ctx) {
  let timer = null;
  ctx.onLeave(() => clearTimeout(timer));
  const body = h("div", { class: "coaching" }, loading("the interviews shared with you"));
  root.append(h("div", { class: "page-head" }, h("div", {},
    h("h1", {}, "Coaching"),
    h("p", { class: "lede" }, "Watch the candidates who share with you, live or afterwards, and leave them notes."))), body);

  const catalog = await loadCatalog().catch(() => null);
  const shared = h("div", {}, loading("the interviews shared with you"));
  const orgsBox = h("div", {});
  body.replaceChildren(shared, orgsBox);
  let shownKey = null;
  const refresh = async () => {
    let items;
    try {
      items = await get("/v1/coaching");
    } catch (err) {
      if (!ctx.isCurrent()) return;
      if (shownKey === null) shared.replaceChildren(h("p", { class: "error", role: "alert" }, err.message));
      timer = setTimeout(refresh, REFRESH_MS);
      return;
    }
    if (!ctx.isCurrent()) return;
    // Redrawn only when something changed, so focus and reading position stay put.
    const key = JSON.stringify(items.map((i) => [i.session_id, i.status, i.live]));
    if (key !== shownKey) {
      if (shownKey !== null && items.some((i) => i.live)) announce("Interviews shared with you updated.");
      shownKey = key;
      shared.replaceChildren(sharedSection(items, catalog));
    }
    timer = setTimeout(refresh, REFRESH_MS);
  };
  await refresh();
  const orgs = await get("/v1/orgs").catch(() => []);
  if (!ctx.isCurrent()) return;
  orgsBox.replaceChildren(orgsSection(orgs, ctx));
}
