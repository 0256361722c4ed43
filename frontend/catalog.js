// The interview choices on offer (GET /v1/catalog), fetched once per tab, with label helpers.

import { get } from "./api.js";
import { humanize } from "./ui.js";

let cached = null;

/** The catalog: role tracks, round types, difficulties, durations, personas, retention choices. */
export async function loadCatalog() {
  if (!cached) cached = get("/v1/catalog").catch((err) => { cached = null; throw err; });
  return cached;
}

/** The label of a choice id in one of the catalog's lists ({id, label} or {id, name}). */
export function labelOf(list, id) {
  const found = (list || []).find((item) => item.id === id);
  return found ? found.label || found.name : humanize(id);
}

/** "Software engineer · Behavioural" for a session. */
export function sessionTitle(catalog, session) {
  return `${labelOf(catalog && catalog.role_tracks, session.role_track)} · ${labelOf(catalog && catalog.round_types, session.round_type)}`;
}
