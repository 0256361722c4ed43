// The candidate's own audit log: sign-ins, shares and their revocation, coaches who watched,
// exports, notes and deletions, newest first.

import { auditSection } from "../audit.js";
import { h } from "../ui.js";

export async function render(root) {
  const log = auditSection({
    path: "/v1/me/audit",
    id: "my-audit",
    title: "Activity on your account",
    intro: "Everything done with your account and your interviews, by you or by a coach you shared with.",
    sessionLink: (id) => `#/sessions/${id}`,
  });
  root.append(
    h("div", { class: "page-head" }, h("div", {},
      h("h1", {}, "Your activity"),
      h("p", { class: "lede" }, "Who signed in, shared, watched, exported or deleted, and when.")),
      h("a", { class: "button secondary", href: "#/" }, "Back to your dashboard")),
    log);
  await log.load();
}
