// Mirror check and consent: a local camera preview and microphone level, device pickers, the
// consent text with an explicit checkbox, the "analyse my delivery" switch and retention.
// The session is created only when the candidate presses Join; nothing is sent before that.

import { get, post } from "../api.js";
import { labelOf, loadCatalog } from "../catalog.js";
import { explainMediaError, listDevices, meterMicrophone, openCamera, stopStream } from "../media.js";
import { greenroom, resetGreenroom } from "../room-connection.js";
import { announce, errorBox, h } from "../ui.js";

const HEARD_LEVEL = 0.15;

/** The policy text as headings, paragraphs and lists ("- " lines are bullets). */
export function consentBlocks(text) {
  const out = [];
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split("\n").map((l) => l.trim()).filter(Boolean);
    if (!lines.length) continue;
    const bullets = lines.filter((l) => l.startsWith("- "));
    const plain = lines.filter((l) => !l.startsWith("- "));
    if (bullets.length && plain.length === 1 && lines[0] === plain[0]) {
      out.push(h("h3", {}, plain[0]), h("ul", {}, bullets.map((b) => h("li", {}, b.slice(2)))));
    } else if (bullets.length === lines.length) {
      out.push(h("ul", {}, bullets.map((b) => h("li", {}, b.slice(2)))));
    } else {
      out.push(h("p", {}, lines.join(" ")));
    }
  }
  return out;
}

function retentionLabel(days) {
  if (days === null) return "Until I delete it";
  if (days === 365) return "1 year";
  return `${days} days`;
}

function draftSummary(draft, catalog) {
  const items = [
    ["Role", labelOf(catalog.role_tracks, draft.role_track)],
    ["Round", labelOf(catalog.round_types, draft.round_type)],
    ["Difficulty", labelOf(catalog.difficulties, draft.difficulty)],
    ["Duration", `${draft.duration_min} minutes`],
    ["Interviewer", labelOf(catalog.personas, draft.persona)],
  ];
  if (draft.practice_question_text) items.unshift(["Question", draft.practice_question_text]);
  if (draft.cv_text) items.push(["CV", "added"]);
  if (draft.jd_text) items.push(["Job description", "added"]);
  return h("dl", { class: "summary-list", id: "draft-summary" }, items.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

export async function render(root, ctx) {
  resetGreenroom(null);
  const draft = ctx.app.draft;
  if (!draft) {
    root.append(h("h1", {}, "Mirror check"),
      h("p", {}, "First choose what you'd like to practise."),
      h("a", { class: "button", href: "#/new" }, "Set up an interview"));
    return;
  }
  const mirror = (greenroom.mirror = { state: "asking", level: 0, maxLevel: 0, playing: false, devices: null });
  let stream = null;
  let meter = null;
  let handedOff = false;
  let leaving = false;
  ctx.onLeave(() => {
    leaving = true;
    if (meter) meter.stop();
    if (!handedOff) stopStream(stream);
  });

  const [catalog, consent] = await Promise.all([loadCatalog(), get("/v1/consent")]);

  // --- camera and microphone --------------------------------------------------------------
  const preview = h("video", { id: "preview", autoplay: true, muted: true, playsinline: true, "aria-label": "Your camera preview (only you can see it)" });
  const videoBox = h("div", { class: "preview-box" }, preview, h("p", { class: "preview-placeholder", id: "preview-placeholder" }, "Starting your camera…"));
  const levelMeter = h("meter", { id: "mic-level", min: "0", max: "1", low: "0.15", high: "0.85", optimum: "0.5", value: "0" });
  const levelBar = h("div", { class: "level-bar", "aria-hidden": "true" }, h("div", { class: "level-fill" }));
  const heard = h("p", { class: "muted", id: "mic-heard", "aria-live": "polite" }, "Say something to test your microphone.");
  const cameraSelect = h("select", { id: "camera-select", disabled: true });
  const micSelect = h("select", { id: "mic-select", disabled: true });
  const mediaError = h("div", { class: "callout danger", id: "media-error", role: "alert", hidden: true });

  const showLevel = (level) => {
    mirror.level = level;
    mirror.maxLevel = Math.max(mirror.maxLevel, level);
    levelMeter.value = level;
    levelBar.firstChild.style.width = `${Math.round(level * 100)}%`;
    if (level > HEARD_LEVEL && !heard.dataset.heard) {
      heard.dataset.heard = "1";
      heard.textContent = "We can hear you.";
    }
  };

  const fillDevices = async () => {
    const { cameras, mics } = await listDevices();
    mirror.devices = { cameras: cameras.length, mics: mics.length };
    const current = (kind) => stream && stream.getTracks().find((t) => t.kind === kind)?.getSettings().deviceId;
    const options = (list, selectedId, noun) => list.map((d, i) =>
      h("option", { value: d.deviceId, selected: d.deviceId === selectedId }, d.label || `${noun} ${i + 1}`));
    cameraSelect.replaceChildren(...options(cameras, current("video"), "Camera"));
    micSelect.replaceChildren(...options(mics, current("audio"), "Microphone"));
    cameraSelect.disabled = !cameras.length;
    micSelect.disabled = !mics.length;
  };

  const start = async (choice = {}) => {
    mediaError.hidden = true;
    mirror.state = "asking";
    greenroom.state = "requesting_media";
    updateJoin();
    if (meter) meter.stop();
    stopStream(stream);
    stream = null;
    let next;
    try {
      next = await openCamera(choice);
    } catch (err) {
      if (leaving) return;
      const why = explainMediaError(err);
      mirror.state = "denied";
      greenroom.state = "media_denied";
      mediaError.replaceChildren(
        h("h3", {}, why.title),
        h("ol", {}, why.steps.map((s) => h("li", {}, s))),
        h("p", { class: "muted" }, `Browser said: ${why.name}. No interview has been created and nothing was sent.`),
        h("button", { type: "button", id: "media-retry", onclick: () => start(choice) }, "Try again"));
      mediaError.hidden = false;
      document.getElementById("preview-placeholder").textContent = "Camera unavailable";
      announce(why.title);
      updateJoin();
      return;
    }
    if (leaving) { stopStream(next); return; }
    stream = next;
    mirror.openedAt = performance.now(); // when the microphone began (fake devices play from here)
    preview.srcObject = stream;
    preview.play().catch(() => {});
    meter = meterMicrophone(stream, showLevel);
    mirror.micId = stream.getAudioTracks()[0]?.getSettings().deviceId || null;
    mirror.cameraId = stream.getVideoTracks()[0]?.getSettings().deviceId || null;
    mirror.state = "ready";
    greenroom.state = "ready";
    await fillDevices();
    updateJoin();
  };

  preview.addEventListener("playing", () => {
    mirror.playing = true;
    document.getElementById("preview-placeholder").hidden = true;
  });
  const switchDevice = () => start({ cameraId: cameraSelect.value || undefined, micId: micSelect.value || undefined });
  cameraSelect.addEventListener("change", switchDevice);
  micSelect.addEventListener("change", switchDevice);

  // --- consent and choices -----------------------------------------------------------------
  const consentBox = h("input", { type: "checkbox", id: "consent", name: "consent" });
  const capture = h("input", { type: "checkbox", id: "capture-signals", role: "switch", "aria-describedby": "capture-hint" });
  const retention = h("select", { id: "retention", "aria-describedby": "retention-hint" },
    catalog.retention_days.map((d) => h("option", { value: d === null ? "" : String(d), selected: d === catalog.default_retention_days }, retentionLabel(d))));
  const joinError = errorBox("join-error");
  const join = h("button", { type: "button", id: "join", disabled: true, "aria-describedby": "join-hint" }, "Join interview");
  const joinHint = h("p", { class: "hint", id: "join-hint" });

  function updateJoin() {
    const missing = [];
    if (mirror.state !== "ready") missing.push(mirror.state === "denied" ? "allow your camera and microphone" : "wait for your camera and microphone");
    if (!consentBox.checked) missing.push("agree to the consent policy");
    join.disabled = missing.length > 0;
    joinHint.textContent = missing.length ? `To join, ${missing.join(" and ")}.` : "Ready when you are.";
  }
  consentBox.addEventListener("change", updateJoin);
  root.addEventListener("click", () => meter && meter.resume(), { capture: true });

  join.addEventListener("click", async () => {
    if (join.disabled) return;
    joinError.clear();
    join.disabled = true;
    join.textContent = "Joining…";
    const body = {
      role_track: draft.role_track,
      round_type: draft.round_type,
      difficulty: draft.difficulty,
      duration_min: draft.duration_min,
      persona: draft.persona,
      consent_version: consent.version,
      capture_signals: capture.checked,
      retention_days: retention.value === "" ? null : Number(retention.value),
    };
    if (draft.cv_text) body.cv_text = draft.cv_text;
    if (draft.jd_text) body.jd_text = draft.jd_text;
    if (draft.practice_question_id) body.practice_question_id = draft.practice_question_id;
    if (draft.panel && draft.panel.length > 1) body.panel = draft.panel;
    try {
      const created = await post("/v1/sessions", body);
      handedOff = true;
      ctx.app.handoff = { sessionId: created.session.id, join: created.room, stream, session: created.session, draft };
      ctx.app.draft = null;
      ctx.navigate(`#/room/${created.session.id}`);
    } catch (err) {
      joinError.show(`Could not start the interview: ${err.message}`);
      join.textContent = "Join interview";
      updateJoin();
    }
  });

  root.append(
    h("h1", {}, "Mirror check"),
    h("ol", { class: "steps", "aria-label": "Steps" },
      h("li", {}, "Choose"), h("li", { "aria-current": "step" }, "Mirror check"), h("li", {}, "Interview"), h("li", {}, "Review")),
    h("div", { class: "grid-2 mirror" },
      h("section", { class: "card", "aria-labelledby": "devices-title" },
        h("h2", { id: "devices-title" }, "Camera and microphone"),
        h("p", { class: "muted" }, "This preview stays on your device."),
        mediaError,
        videoBox,
        h("div", { class: "field" }, h("label", { for: "mic-level" }, "Microphone level"), levelMeter, levelBar, heard),
        h("div", { class: "grid-2 tight" },
          h("div", { class: "field" }, h("label", { for: "camera-select" }, "Camera"), cameraSelect),
          h("div", { class: "field" }, h("label", { for: "mic-select" }, "Microphone"), micSelect))),
      h("section", { class: "card", "aria-labelledby": "consent-title" },
        h("h2", { id: "consent-title" }, "Your interview"),
        draftSummary(draft, catalog),
        h("p", {}, h("a", { href: draft.practice_question_id ? "#/questions" : "#/new" }, "Change these choices")),
        h("h2", {}, "Consent"),
        h("div", { class: "consent-text", id: "consent-text", tabindex: "0", role: "region", "aria-label": "Consent policy" }, consentBlocks(consent.text)),
        h("p", { class: "muted", id: "consent-version" }, `Policy version ${consent.version}`),
        h("div", { class: "check" }, consentBox,
          h("label", { for: "consent" }, "I have read the policy above and agree to my camera and microphone being used for this practice interview.")),
        h("div", { class: "check switch" }, capture,
          h("label", { for: "capture-signals" }, "Analyse my delivery"),
          h("p", { class: "hint", id: "capture-hint" }, "Measures pace, pauses, pitch, whether your face is in view and where you look, for the delivery part of your report. Off: only the transcript is scored.")),
        h("div", { class: "field" }, h("label", { for: "retention" }, "Keep this interview for"), retention,
          h("p", { class: "hint", id: "retention-hint" }, "After this, the session and everything recorded in it are deleted automatically.")),
        joinError,
        h("div", { class: "actions" }, join),
        joinHint)));

  updateJoin();
  await start();
}
