// The live captions box the room and the coach's view share: both sides, interim lines
// replaced as the final text arrives. An answer is one paragraph: the candidate's words after a
// pause join their line until the interviewer speaks.

import { h } from "./ui.js";

/** What the interviewer is doing, as the room's agent-state events name it. */
export const AGENT_STATES = { speaking: "Speaking", thinking: "Thinking…", listening: "Listening", initializing: "Getting ready…" };

/** The label above the current question: its place in the plan, or what kind of question it is,
 * and on a panel who asks it. */
export function questionLabel(msg, panel = false) {
  const kind = msg.source === "bank" ? `Question ${msg.number} of ${msg.total}` : msg.from_cv ? "From your CV" : "Follow-up";
  return panel && msg.persona_name ? `${kind} · ${msg.persona_name} asks` : kind;
}

/** A captions log; `labels` names each speaker (an interviewer line with a persona's name takes
 * that name: a panel's lines say who speaks), `placeholder` shows until the first line. */
export function captionsBox({
  labels = { interviewer: "Interviewer: ", candidate: "You: " },
  placeholder = "Captions appear here as you and the interviewer speak.",
} = {}) {
  const box = h("div", { id: "captions", class: "captions", role: "log", "aria-live": "polite", "aria-label": "Live captions", tabindex: "0" },
    h("p", { class: "muted caption-placeholder" }, placeholder));
  const interim = { interviewer: null, candidate: null };
  box.add = (speaker, text, final, name = null) => {
    box.querySelector(".caption-placeholder")?.remove();
    let p = interim[speaker];
    const last = box.lastElementChild;
    if (!p && speaker === "candidate" && last?.classList.contains("candidate")) {
      p = last; // the same answer, after a pause: its words go on in the same line
      p.dataset.before = p.dataset.text;
      interim[speaker] = p;
    }
    if (!p) {
      p = h("p", { class: `caption ${speaker}` }, h("b", {}, name ? `${name}: ` : labels[speaker] || `${speaker}: `), h("span"));
      if (name) p.dataset.persona = name;
      p.dataset.text = "";
      box.append(p);
      interim[speaker] = p;
    }
    if (speaker === "interviewer" && !final) p.dataset.text += text;
    else if (text) p.dataset.text = [p.dataset.before, text].filter(Boolean).join(" ");
    p.querySelector("span").textContent = p.dataset.text;
    p.classList.toggle("interim", !final);
    p.setAttribute("aria-busy", String(!final));
    if (final) interim[speaker] = null;
    box.scrollTop = box.scrollHeight;
  };
  /** The speaker's last line was withdrawn (the interviewer stopped for the candidate): drop it. */
  box.withdraw = (speaker) => {
    const lines = box.querySelectorAll(`.caption.${speaker}`);
    lines[lines.length - 1]?.remove();
    interim[speaker] = null;
  };
  return box;
}
