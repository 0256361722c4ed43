// Greenroom's web app: hash routes, the sign-in guard, the header, and page lifecycles.

import { auth, onUnauthorized } from "./api.js";
import { announce, h } from "./ui.js";

// The state the room exposes for people and tests (room-connection.js fills it in).
window.greenroom = window.greenroom || {};

// Each route: a hash path pattern, its page module under pages/, and the nav item it belongs to.
const ROUTES = [
  { path: /^\/signin$/, page: "signin", public: true, title: "Sign in" },
  { path: /^\/signup$/, page: "signup", public: true, title: "Create your account" },
  { path: /^\/$/, page: "dashboard", nav: "dashboard", title: "Dashboard" },
  { path: /^\/new$/, page: "setup", nav: "new", title: "New interview" },
  { path: /^\/check$/, page: "mirror", nav: "new", title: "Mirror check" },
  { path: /^\/room\/([0-9a-f-]{36})$/, page: "room", nav: "new", title: "Interview room" },
  { path: /^\/sessions\/([0-9a-f-]{36})$/, page: "review", nav: "dashboard", title: "Interview review" },
  { path: /^\/questions$/, page: "questions", nav: "questions", title: "Question bank" },
  { path: /^\/coaching$/, page: "coaching", nav: "coaching", title: "Coaching" },
  { path: /^\/coaching\/watch\/([0-9a-f-]{36})$/, page: "coach-watch", nav: "coaching", title: "Watch an interview" },
  { path: /^\/orgs\/([0-9a-f-]{36})$/, page: "org", nav: "coaching", title: "Organisation" },
  { path: /^\/account\/activity$/, page: "activity", nav: "dashboard", title: "Your activity" },
  // Open to anyone: the invitation is shown first, then joining asks to sign in.
  { path: /^\/invite\/([A-Za-z0-9._-]{1,200})$/, page: "invite", anyone: true, title: "Join an organisation" },
  // Open to anyone, signed in or not: the share token in the link is the credential.
  { path: /^\/watch\/([A-Za-z0-9._-]{1,200})$/, page: "watch", anyone: true, title: "Watch an interview" },
  { path: /^\/shared\/([A-Za-z0-9._-]{1,200})$/, page: "shared", anyone: true, title: "Shared report" },
];

/**
 * What pages share for the life of the tab: the signed-in user, the interview being set up
 * (`draft`, never sent before the candidate joins), and the camera stream handed from the
 * mirror check to the room.
 */
const app = {
  user: undefined, // undefined: not asked yet; null: signed out
  draft: null,
  handoff: null, // {sessionId, join, stream, draft} from the mirror check to the room
  leave: null, // the current page's clean-up
  view: null,
};

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = raw.split("?");
  return { path: path || "/", query: new URLSearchParams(search) };
}

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function setNav(route) {
  const nav = document.getElementById("nav");
  nav.hidden = !app.user;
  for (const link of nav.querySelectorAll("a[data-nav]")) {
    if (route && link.dataset.nav === route.nav) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function ensureUser() {
  if (app.user !== undefined) return app.user;
  try {
    const me = await auth.me();
    app.user = me.user || me;
  } catch (err) {
    if (err.status === 401) app.user = null;
    else throw err;
  }
  return app.user;
}

async function route() {
  const { path, query } = parseHash();
  const found = ROUTES.find((r) => r.path.test(path));
  const main = document.getElementById("main");
  if (app.leave) {
    try { app.leave(); } catch (_) { /* a page's clean-up must not stop the next page */ }
    app.leave = null;
  }
  if (app.view) app.view.remove();
  const view = (app.view = h("div", { class: "view" }));
  main.append(view);

  if (!found) {
    setNav(null);
    view.append(h("h1", { tabindex: "-1" }, "Page not found"), h("p", {}, h("a", { href: "#/" }, "Go to your dashboard")));
    return;
  }
  let user;
  try {
    user = await ensureUser();
  } catch (err) {
    view.append(h("h1", { tabindex: "-1" }, "Greenroom is unavailable"), h("p", { class: "error", role: "alert" }, err.message));
    return;
  }
  if (view !== app.view) return; // the hash changed while we waited
  if (!found.public && !found.anyone && !user) {
    const next = path === "/" ? "" : `?next=${encodeURIComponent(path + (query.toString() ? `?${query}` : ""))}`;
    location.replace(`#/signin${next}`);
    return;
  }
  if (found.public && user) {
    location.replace("#/");
    return;
  }
  setNav(found);
  document.title = `${found.title} · Greenroom`;
  const ctx = {
    app,
    params: path.match(found.path).slice(1),
    query,
    navigate,
    /** Registers the page's clean-up, run when the route changes. */
    onLeave(fn) {
      const previous = app.leave;
      app.leave = () => { if (previous) previous(); fn(); };
    },
    isCurrent: () => view === app.view,
    signedIn(user) { app.user = user; },
  };
  try {
    const page = await import(`./pages/${found.page}.js`);
    if (view !== app.view) return;
    await page.render(view, ctx);
  } catch (err) {
    if (view !== app.view) return;
    if (err && err.status === 401) return; // the guard already sent us to sign in
    console.error(err);
    view.append(h("p", { class: "error", role: "alert" }, `Something went wrong: ${err.message}`));
  }
  if (view === app.view) focusHeading(view);
}

// After a route change, move focus to the page's heading so keyboard and screen reader users
// start at the top of the new page.
function focusHeading(view) {
  const heading = view.querySelector("h1");
  if (!heading) return;
  heading.setAttribute("tabindex", "-1");
  heading.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

onUnauthorized(() => {
  app.user = null;
  const { path } = parseHash();
  if (!path.startsWith("/signin") && !path.startsWith("/signup")) {
    announce("Please sign in again.");
    location.replace(`#/signin?next=${encodeURIComponent(path)}`);
  }
});

document.getElementById("sign-out").addEventListener("click", async () => {
  try {
    await auth.signOut();
  } catch (_) { /* signed out either way */ }
  app.user = null;
  app.draft = null;
  announce("Signed out.");
  navigate("#/signin");
});

window.addEventListener("hashchange", route);
route();
