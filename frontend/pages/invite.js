// An invitation to join an organisation, opened from its link: what it is, then joining (after
// signing in or creating an account, which come back here).

import { get, post } from "../api.js";
import { announce, errorBox, formatDateTime, h, loading } from "../ui.js";

const ROLES = { admin: "an admin", member: "a member" };

/** Why an invitation cannot be used, in words. */
function inviteProblem(err) {
  if (err.status === 410) return "This invitation has expired, was withdrawn, or was already used. Ask for a new link.";
  if (err.status === 404) return "This invitation link is not valid. Check that it was copied in full.";
  return err.message;
}

export async function render(root, ctx) {
  const token = ctx.params[0];
  const body = h("div", {}, loading("the invitation"));
  root.append(h("section", { class: "auth-page invite-page", "aria-labelledby": "invite-title" },
    h("h1", { id: "invite-title" }, "Join an organisation"), body));

  let invite;
  try {
    invite = await get(`/v1/invites/${token}`);
  } catch (err) {
    if (!ctx.isCurrent()) return;
    body.replaceChildren(h("p", { class: "error", role: "alert", id: "invite-problem" }, inviteProblem(err)));
    return;
  }
  if (!ctx.isCurrent()) return;
  const user = ctx.app.user;
  const next = encodeURIComponent(`/invite/${token}`);
  const what = h("div", { class: "card" },
    h("p", { id: "invite-summary" }, "You are invited to join ", h("strong", {}, invite.org_name), ` as ${ROLES[invite.role] || invite.role}.`),
    h("p", { class: "muted" }, invite.role === "admin"
      ? "Admins see the cohort of members who share with the organisation, and can invite people."
      : "Members practise as usual. Nothing is shared with the organisation until you choose to share it."),
    h("p", { class: "hint" }, `The invitation works until ${formatDateTime(invite.expires_at)}.`));
  if (!user) {
    body.replaceChildren(what, h("div", { class: "actions" },
      h("a", { class: "button", href: `#/signin?next=${next}`, id: "invite-signin" }, "Sign in to join"),
      h("a", { class: "button secondary", href: `#/signup?next=${next}` }, "Create an account")));
    return;
  }
  const error = errorBox("invite-error");
  const join = h("button", { type: "button", id: "invite-accept" }, `Join ${invite.org_name}`);
  join.addEventListener("click", async () => {
    join.disabled = true;
    error.clear();
    try {
      const joined = await post(`/v1/invites/${token}/accept`);
      announce(`You joined ${invite.org_name}.`);
      ctx.navigate(`#/orgs/${joined.org_id}`);
    } catch (err) {
      error.show(inviteProblem(err));
      join.disabled = false;
    }
  });
  body.replaceChildren(what,
    h("p", { class: "muted" }, `Signed in as ${user.email}.`),
    error, h("div", { class: "actions" }, join, h("a", { class: "button secondary", href: "#/" }, "Not now")));
}
