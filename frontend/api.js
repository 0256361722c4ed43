// The Greenroom HTTP API from the browser: JSON in and out, errors as ApiError.

/** An API answer that was not 2xx: the HTTP status and the server's `detail`, made readable. */
export class ApiError extends Error {
  constructor(status, detail, fields = {}) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.fields = fields; // field name -> message, from a 422's validation errors
  }
}

// Who to tell when the server says the sign-in is missing or expired (app.js sets it).
const listeners = { unauthorized: () => {} };

/** Sets what happens on a 401 from any call except the sign-in calls themselves. */
export function onUnauthorized(handler) {
  listeners.unauthorized = handler;
}

function readableDetail(status, body) {
  const detail = body && body.detail;
  if (typeof detail === "string") return { message: detail, fields: {} };
  if (Array.isArray(detail)) {
    // FastAPI validation errors: [{loc: ["body", "email"], msg: "..."}]
    const fields = {};
    for (const item of detail) {
      const loc = Array.isArray(item.loc) ? item.loc : [];
      const field = loc[loc.length - 1];
      if (typeof field === "string" && !(field in fields)) fields[field] = item.msg;
    }
    const first = detail[0];
    const message = first ? `${first.loc ? first.loc[first.loc.length - 1] + ": " : ""}${first.msg}` : "invalid request";
    return { message, fields };
  }
  if (status >= 500) return { message: "The server had a problem. Try again in a moment.", fields: {} };
  return { message: `request failed (${status})`, fields: {} };
}

/**
 * Calls the API on this origin (the sign-in cookie goes along) and returns the JSON answer,
 * or null for 204. Throws ApiError; status 0 means the server could not be reached.
 */
export async function request(method, path, body, { authCall = false } = {}) {
  let res;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? { accept: "application/json" } : { "content-type": "application/json", accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (_) {
    throw new ApiError(0, "Could not reach Greenroom. Check your connection and try again.");
  }
  if (res.ok) {
    if (res.status === 204) return null;
    const type = res.headers.get("content-type") || "";
    return type.includes("application/json") ? res.json() : res.text();
  }
  let parsed = null;
  try { parsed = await res.json(); } catch (_) { /* not JSON */ }
  const { message, fields } = readableDetail(res.status, parsed);
  const error = new ApiError(res.status, message, fields);
  if (res.status === 401 && !authCall) listeners.unauthorized(error);
  throw error;
}

export const get = (path) => request("GET", path);
export const post = (path, body) => request("POST", path, body === undefined ? {} : body);
export const del = (path) => request("DELETE", path);
export const patch = (path, body) => request("PATCH", path, body);

/** A query string from the set (non-empty) values of an object. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

export const auth = {
  me: () => request("GET", "/v1/auth/me", undefined, { authCall: true }),
  signIn: (email, password) => request("POST", "/v1/auth/signin", { email, password }, { authCall: true }),
  signUp: (fields) => request("POST", "/v1/auth/signup", fields, { authCall: true }),
  signOut: () => request("POST", "/v1/auth/signout", undefined, { authCall: true }),
};
