// Greenroom's interview room: create a session, join its room over WebRTC, show captions.
"use strict";

const $ = (id) => document.getElementById(id);

// State the page exposes for people (status line) and for the browser tests.
const greenroom = (window.greenroom = {
  state: "idle",
  sessionId: null,
  events: [],
  audio: { maxRms: 0, loudFrames: 0 },
  questions: [],
  nudges: [],
});

let socket = null;
let pc = null;
let localStream = null;
let join = null;
let startedAt = 0;
let ending = false;
let reconnectAttempts = 0;

function setState(state, text) {
  greenroom.state = state;
  $("status").textContent = text;
}

function showError(message) {
  const el = $("error");
  el.textContent = message;
  el.hidden = false;
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) {
    let detail = res.statusText;
    try { detail = (await res.json()).detail; } catch (_) { /* not JSON */ }
    throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return res.status === 204 ? null : res.json();
}

async function startInterview(form) {
  $("error").hidden = true;
  setState("requesting_media", "Asking for camera and microphone…");
  try {
    localStream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true },
      video: { width: 640, height: 480 },
    });
  } catch (err) {
    setState("media_denied", "Camera or microphone unavailable");
    showError(
      "Greenroom needs your camera and microphone. Allow access in your browser's site settings, then try again. (" +
        err.name + ")"
    );
    return;
  }
  const data = new FormData(form);
  let created;
  try {
    created = await api("POST", "/v1/sessions", {
      role_track: data.get("role_track"),
      round_type: data.get("round_type"),
      difficulty: data.get("difficulty"),
      duration_min: Number(data.get("duration_min")),
      persona: data.get("persona"),
      consent_version: "v1",
    });
  } catch (err) {
    localStream.getTracks().forEach((t) => t.stop());
    setState("error", "Could not create the session");
    showError(err.message);
    return;
  }
  greenroom.sessionId = created.session.id;
  join = created.room;
  $("persona-name").textContent = form.persona.selectedOptions[0].textContent.split(" — ")[0];
  $("setup").hidden = true;
  $("room").hidden = false;
  $("self-view").srcObject = localStream;
  startedAt = Date.now();
  setInterval(tick, 1000);
  connect();
}

function tick() {
  const s = Math.floor((Date.now() - startedAt) / 1000);
  $("timer").textContent = `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

function connect() {
  setState(reconnectAttempts ? "reconnecting" : "connecting", reconnectAttempts ? "Reconnecting…" : "Connecting…");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}${join.signal_url}`);
  socket.onopen = () => socket.send(JSON.stringify({ type: "join", token: join.token }));
  socket.onmessage = (ev) => onSignal(JSON.parse(ev.data));
  socket.onclose = (ev) => {
    if (ending || greenroom.state === "ended") return;
    if (ev.code === 4401 || ev.code === 4403) {
      setState("error", "Could not join the room");
      showError(ev.reason || "The room refused this join.");
      return;
    }
    scheduleReconnect();
  };
}

async function scheduleReconnect() {
  if (reconnectAttempts >= 10) {
    setState("error", "Connection lost");
    showError("The connection to the interview was lost. Check your network and start again.");
    return;
  }
  reconnectAttempts += 1;
  setState("reconnecting", "Reconnecting…");
  await new Promise((r) => setTimeout(r, Math.min(500 * reconnectAttempts, 3000)));
  try {
    join = await api("POST", `/v1/sessions/${greenroom.sessionId}/token`, { role: "candidate" });
    connect();
  } catch (err) {
    setState("error", "Connection lost");
    showError(err.message);
  }
}

async function negotiate(iceServers) {
  if (pc) pc.close();
  pc = new RTCPeerConnection({ iceServers });
  for (const track of localStream.getTracks()) {
    const sender = pc.addTrack(track, localStream);
    if (track.kind === "video") {
      pc.getTransceivers().find((t) => t.sender === sender).direction = "sendonly";
    }
  }
  pc.ontrack = (ev) => {
    if (ev.track.kind !== "audio") return;
    const stream = new MediaStream([ev.track]);
    $("interviewer-audio").srcObject = stream;
    meterInterviewer(stream);
  };
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === "connected") {
      reconnectAttempts = 0;
      setState("live", "Live");
    } else if (pc.connectionState === "failed") {
      scheduleReconnect();
    }
  };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, 2000);
  });
  socket.send(JSON.stringify({ type: "offer", sdp: pc.localDescription.sdp }));
}

// Measure the interviewer's voice as it plays (shown as the speaking ring; read by tests).
function meterInterviewer(stream) {
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 2048;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  const loop = () => {
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf) sum += v * v;
    const rms = Math.sqrt(sum / buf.length);
    greenroom.audio.maxRms = Math.max(greenroom.audio.maxRms, rms);
    if (rms > 0.01) greenroom.audio.loudFrames += 1;
    $("interviewer-tile").classList.toggle("speaking", rms > 0.01);
    requestAnimationFrame(loop);
  };
  loop();
}

let interimCaption = { interviewer: null, candidate: null };

function caption(speaker, text, final) {
  const box = $("captions");
  let p = interimCaption[speaker];
  if (!p) {
    p = document.createElement("p");
    p.className = speaker;
    p.innerHTML = `<b>${speaker === "interviewer" ? "Interviewer" : "You"}:</b> <span></span>`;
    box.appendChild(p);
    interimCaption[speaker] = p;
    p.dataset.text = "";
  }
  if (speaker === "interviewer" && !final) p.dataset.text += text;
  else if (text) p.dataset.text = text;
  p.querySelector("span").textContent = p.dataset.text;
  p.classList.toggle("interim", !final);
  if (final) interimCaption[speaker] = null;
  box.scrollTop = box.scrollHeight;
}

async function onSignal(msg) {
  greenroom.events.push(msg);
  switch (msg.type) {
    case "joined":
      await negotiate(msg.ice_servers || []);
      break;
    case "answer":
      await pc.setRemoteDescription({ type: "answer", sdp: msg.sdp });
      break;
    case "caption":
      caption(msg.speaker, msg.text, msg.final);
      break;
    case "question":
      greenroom.questions.push(msg);
      $("question-progress").textContent =
        msg.source === "bank" ? `Question ${msg.number} of ${msg.total}:` : "Follow-up:";
      $("question-text").textContent = msg.text;
      break;
    case "agent_state":
      $("agent-state").textContent = { speaking: "speaking", thinking: "thinking…", listening: "listening" }[msg.state] || msg.state;
      break;
    case "nudge": {
      greenroom.nudges.push(msg);
      const el = $("nudge");
      el.textContent = msg.message;
      el.hidden = false;
      clearTimeout(el.hideTimer);
      el.hideTimer = setTimeout(() => { el.hidden = true; }, 8000);
      break;
    }
    case "room_closed":
      finish(msg.reason);
      break;
    case "error":
      if (msg.code === "invalid_token" || msg.code === "refused") showError(msg.message);
      break;
  }
}

function finish(reason) {
  if (greenroom.state === "ended") return;
  setState("ended", "Ended");
  ending = true;
  if (pc) pc.close();
  if (socket) socket.close();
  if (localStream) localStream.getTracks().forEach((t) => t.stop());
  $("room").hidden = true;
  $("done").hidden = false;
  $("done-text").textContent =
    reason === "completed" || reason === "ended_by_candidate"
      ? "Thank you — your interview is saved."
      : `The interview ended (${reason}).`;
}

$("setup-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  startInterview(ev.target);
});

$("end").addEventListener("click", async () => {
  ending = true;
  try {
    await api("POST", `/v1/sessions/${greenroom.sessionId}/end`);
  } finally {
    finish("ended_by_candidate");
  }
});

$("mute").addEventListener("click", (ev) => {
  const track = localStream && localStream.getAudioTracks()[0];
  if (!track) return;
  track.enabled = !track.enabled;
  ev.target.setAttribute("aria-pressed", String(!track.enabled));
  ev.target.textContent = track.enabled ? "Mute" : "Unmute";
});
