// Create an account: email, password (8 characters or more) and an optional display name.

import { auth } from "../api.js";
import { announce, errorBox, h } from "../ui.js";

const MIN_PASSWORD = 8;

function field(id, labelText, input, hint) {
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  const fieldError = h("p", { class: "field-error", id: `${id}-error`, role: "alert", hidden: true });
  input.id = id;
  input.setAttribute("aria-describedby", [hintEl && hintEl.id, fieldError.id].filter(Boolean).join(" "));
  const wrapper = h("div", { class: "field" }, h("label", { for: id }, labelText), input, hintEl, fieldError);
  wrapper.setError = (message) => {
    fieldError.textContent = message || "";
    fieldError.hidden = !message;
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };
  return wrapper;
}

export async function render(root, ctx) {
  const error = errorBox("signup-error");
  const name = h("input", { name: "display_name", type: "text", autocomplete: "name", maxlength: "100" });
  const email = h("input", { name: "email", type: "email", autocomplete: "email", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: String(MIN_PASSWORD) });
  const fields = {
    display_name: field("signup-name", "Your name (optional)", name),
    email: field("signup-email", "Email", email),
    password: field("signup-password", "Password", password, `At least ${MIN_PASSWORD} characters.`),
  };
  const submit = h("button", { type: "submit", id: "signup-submit" }, "Create account");
  const form = h("form", { class: "card auth-form", novalidate: true }, Object.values(fields), error, submit);

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.clear();
    Object.values(fields).forEach((f) => f.setError(""));
    let invalid = null;
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.value.trim())) {
      fields.email.setError("Enter an email address like name@example.com.");
      invalid = invalid || email;
    }
    if (password.value.length < MIN_PASSWORD) {
      fields.password.setError(`Use at least ${MIN_PASSWORD} characters.`);
      invalid = invalid || password;
    }
    if (invalid) {
      invalid.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Creating your account…";
    try {
      const body = { email: email.value.trim(), password: password.value };
      if (name.value.trim()) body.display_name = name.value.trim();
      const { user } = await auth.signUp(body);
      ctx.signedIn(user);
      announce(`Welcome to Greenroom, ${user.display_name || user.email}.`);
      const next = ctx.query.get("next");
      ctx.navigate(next && next.startsWith("/") ? `#${next}` : "#/");
    } catch (err) {
      if (err.status === 409) {
        fields.email.setError("An account with this email already exists.");
        error.show("An account with this email already exists. Sign in instead, or use another email.");
        email.focus();
      } else if (err.status === 422 && Object.keys(err.fields).length) {
        for (const [key, message] of Object.entries(err.fields)) if (fields[key]) fields[key].setError(message);
        error.show("Check the highlighted fields.");
      } else {
        error.show(err.message);
      }
    } finally {
      submit.disabled = false;
      submit.textContent = "Create account";
    }
  });

  root.append(
    h("section", { class: "auth-page", "aria-labelledby": "signup-title" },
      h("h1", { id: "signup-title" }, "Create your account"),
      h("p", { class: "lede" }, "Your sessions, scores and progress are kept in your account. You choose how long each interview is kept."),
      form,
      h("p", {}, "Already have an account? ", h("a", { href: ctx.query.get("next") ? `#/signin?next=${encodeURIComponent(ctx.query.get("next"))}` : "#/signin" }, "Sign in")),
    ),
  );
}
