// Sharing with coaches: a candidate shares one interview, or all of them, with a coach (by the
// email of their Greenroom account) or with an organisation they belong to, sees who has access,
// and stops sharing. Used by the dashboard, the review and the interview room.

import { del, get, post } from "./api.js";
import { announce, errorBox, formatDate, h } from "./ui.js";

/** Who a share is with, in words. */
export function shareTarget(share) {
  if (share.coach) return share.coach.display_name || "A coach";
  if (share.org) return `${share.org.name} (organisation)`;
  return "Someone";
}

/** What a share covers, in words. */
export function shareScope(share) {
  return share.session_id ? "this interview" : "all your interviews";
}

/**
 * A section that shares with a coach or an organisation and lists the active shares.
 * `sessionId`: the interview shown (shares of it and of all interviews are listed), or null
 * for the account (all shares are listed). `id` prefixes the element ids.
 */
export function sharingSection({ sessionId = null, id = "sharing", title = "Coaches", compact = false } = {}) {
  const list = h("ul", { class: "share-list", id: `${id}-list` });
  const empty = h("p", { class: "muted", id: `${id}-empty` }, "Nobody else can see your interviews.");
  const status = h("p", { class: "hint", role: "status", "aria-live": "polite" });
  const error = errorBox(`${id}-error`);
  let orgs = [];

  const email = h("input", { id: `${id}-email`, type: "email", autocomplete: "off", spellcheck: "false" });
  const org = h("select", { id: `${id}-org` });
  const emailField = h("div", { class: "field" }, h("label", { for: `${id}-email` }, "Coach's email"), email,
    h("p", { class: "hint" }, "The email of the coach's Greenroom account."));
  const orgField = h("div", { class: "field", hidden: true }, h("label", { for: `${id}-org` }, "Organisation"), org);
  const withCoach = h("input", { type: "radio", name: `${id}-with`, id: `${id}-with-coach`, value: "coach", checked: true });
  const withOrg = h("input", { type: "radio", name: `${id}-with`, id: `${id}-with-org`, value: "org" });
  const withGroup = h("fieldset", { class: "inline-choices", hidden: true },
    h("legend", {}, "Share with"),
    h("span", { class: "inline-choice" }, withCoach, h("label", { for: `${id}-with-coach` }, "A coach")),
    h("span", { class: "inline-choice" }, withOrg, h("label", { for: `${id}-with-org` }, "An organisation")));
  const scopeThis = h("input", { type: "radio", name: `${id}-scope`, id: `${id}-scope-this`, value: "this", checked: true });
  const scopeAll = h("input", { type: "radio", name: `${id}-scope`, id: `${id}-scope-all`, value: "all" });
  const scopeGroup = sessionId
    ? h("fieldset", { class: "inline-choices" },
      h("legend", {}, "What to share"),
      h("span", { class: "inline-choice" }, scopeThis, h("label", { for: `${id}-scope-this` }, "This interview")),
      h("span", { class: "inline-choice" }, scopeAll, h("label", { for: `${id}-scope-all` }, "All my interviews, and future ones")))
    : h("p", { class: "hint" }, "Shares all your interviews, and future ones, until you stop sharing.");
  const submit = h("button", { type: "submit", id: `${id}-submit` }, "Share");
  const toggle = () => {
    const byOrg = withOrg.checked;
    emailField.hidden = byOrg;
    orgField.hidden = !byOrg;
  };
  withCoach.addEventListener("change", toggle);
  withOrg.addEventListener("change", toggle);

  const form = h("form", { class: "share-form", id: `${id}-form`, novalidate: true },
    withGroup, emailField, orgField, scopeGroup, error, h("div", { class: "actions" }, submit), status);

  const render = (shares) => {
    const shown = sessionId ? shares.filter((s) => !s.session_id || s.session_id === sessionId) : shares;
    list.replaceChildren(...shown.map((share) => {
      const stop = h("button", { type: "button", class: "danger-outline small", id: `revoke-share-${share.id}`,
        "aria-label": `Stop sharing with ${shareTarget(share)}` }, "Stop sharing");
      stop.addEventListener("click", async () => {
        stop.disabled = true;
        error.clear();
        try {
          await del(`/v1/coach-shares/${share.id}`);
          announce(`Stopped sharing with ${shareTarget(share)}.`);
          await refresh();
        } catch (err) {
          error.show(`Could not stop sharing: ${err.message}`);
          stop.disabled = false;
        }
      });
      return h("li", { class: "share-row", dataset: { shareId: share.id } },
        h("div", {},
          h("strong", { class: "share-target" }, shareTarget(share)),
          h("span", { class: "muted block small" }, `Can see ${share.session_id && share.session_id !== sessionId ? "one interview" : shareScope(share)} · since ${formatDate(share.created_at)}`)),
        stop);
    }));
    empty.hidden = shown.length > 0;
    list.hidden = shown.length === 0;
  };

  const refresh = async () => {
    try {
      render(await get("/v1/coach-shares"));
    } catch (err) {
      error.show(`Could not load who has access: ${err.message}`);
    }
  };

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.clear();
    status.textContent = "";
    const body = { session_id: sessionId && scopeThis.checked ? sessionId : null, coach_email: null, org_id: null };
    if (withOrg.checked) {
      if (!org.value) return error.show("Choose an organisation.");
      body.org_id = org.value;
    } else {
      const value = email.value.trim();
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) {
        error.show("Enter the coach's email, like name@example.com.");
        email.focus();
        return;
      }
      body.coach_email = value;
    }
    submit.disabled = true;
    try {
      const share = await post("/v1/coach-shares", body);
      email.value = "";
      status.textContent = `Shared with ${shareTarget(share)}.`;
      announce(status.textContent);
      await refresh();
    } catch (err) {
      error.show(err.status === 404 ? err.message || "No Greenroom account has this email." : err.message);
    } finally {
      submit.disabled = false;
    }
  });

  const section = h("section", { class: `card sharing${compact ? " compact" : ""}`, id, "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title` }, title),
    h("p", { class: "muted" }, "Coaches you share with can watch live, read your reports and leave notes on them. Stop sharing at any time: it takes effect at once."),
    h("h3", {}, "Who has access"),
    empty, list,
    h("details", { class: "share-new", open: !compact },
      h("summary", {}, "Share with a coach"),
      form));
  section.refresh = refresh;
  list.hidden = true;

  (async () => {
    await refresh();
    try {
      orgs = await get("/v1/orgs");
    } catch (_) {
      orgs = [];
    }
    if (orgs.length) {
      org.replaceChildren(...orgs.map((o) => h("option", { value: o.id }, o.name)));
      withGroup.hidden = false;
    }
  })();
  return section;
}
