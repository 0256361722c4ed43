// Sign in with email and password.

import { auth } from "../api.js";
import { announce, errorBox, h } from "../ui.js";

export async function render(root, ctx) {
  const error = errorBox("signin-error");
  const email = h("input", { id: "signin-email", name: "email", type: "email", autocomplete: "email", required: true });
  const password = h("input", { id: "signin-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", id: "signin-submit" }, "Sign in");

  const form = h("form", { class: "card auth-form", novalidate: true, "aria-describedby": "signin-error" },
    h("div", { class: "field" }, h("label", { for: "signin-email" }, "Email"), email),
    h("div", { class: "field" }, h("label", { for: "signin-password" }, "Password"), password),
    error,
    submit,
  );

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.clear();
    if (!email.value.trim() || !password.value) {
      error.show("Enter your email and password.");
      (email.value.trim() ? password : email).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Signing in…";
    try {
      const { user } = await auth.signIn(email.value.trim(), password.value);
      ctx.signedIn(user);
      announce(`Signed in as ${user.display_name || user.email}.`);
      const next = ctx.query.get("next");
      ctx.navigate(next && next.startsWith("/") ? `#${next}` : "#/");
    } catch (err) {
      error.show(err.status === 401 ? "Wrong email or password. Check them and try again." : err.message);
      password.value = "";
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = "Sign in";
    }
  });

  root.append(
    h("section", { class: "auth-page", "aria-labelledby": "signin-title" },
      h("h1", { id: "signin-title" }, "Sign in"),
      h("p", { class: "lede" }, "Practise interviews out loud with an AI interviewer, then see what to work on."),
      form,
      h("p", {}, "New to Greenroom? ", h("a", { href: ctx.query.get("next") ? `#/signup?next=${encodeURIComponent(ctx.query.get("next"))}` : "#/signup" }, "Create an account")),
    ),
  );
}
