// Camera and microphone in the browser: asking for them, explaining refusals, the level meter.

/** Asks for the camera and microphone (optionally particular devices). */
export function openCamera({ cameraId, micId } = {}) {
  return navigator.mediaDevices.getUserMedia({
    audio: { ...(micId ? { deviceId: { exact: micId } } : {}), echoCancellation: true, noiseSuppression: true },
    video: { ...(cameraId ? { deviceId: { exact: cameraId } } : {}), width: 640, height: 480 },
  });
}

/** The cameras and microphones the browser will name (labels appear once access is granted). */
export async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  return {
    cameras: devices.filter((d) => d.kind === "videoinput"),
    mics: devices.filter((d) => d.kind === "audioinput"),
  };
}

/** What went wrong with getUserMedia, and what to do about it, in plain words. */
export function explainMediaError(err) {
  const name = (err && err.name) || "Error";
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
    return {
      title: "Greenroom can't use your camera and microphone",
      steps: [
        "Your browser blocked access for this site. Click the camera or lock icon at the left of the address bar and choose Allow for both the camera and the microphone.",
        "If you don't see the icon, open your browser's Settings → Privacy and security → Site settings, and allow Camera and Microphone for this site.",
        "On a Mac, also check System Settings → Privacy & Security → Camera and Microphone for your browser.",
        "Then press Try again.",
      ],
      name,
    };
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return {
      title: "No camera or microphone was found",
      steps: ["Plug in a camera and a microphone (or a headset), or pick another device, then press Try again."],
      name,
    };
  }
  if (name === "NotReadableError" || name === "AbortError") {
    return {
      title: "Your camera or microphone is busy",
      steps: ["Another app (a video call, perhaps) may be using it. Close that app, then press Try again."],
      name,
    };
  }
  return { title: "The camera or microphone could not start", steps: ["Press Try again. If it keeps failing, try another browser."], name };
}

/**
 * Calls onRms(rms) every animation frame with the stream's loudness, until stop() or until
 * onRms returns false. An AudioContext may be shared (`context`); one made here closes on stop.
 */
export function meterStream(stream, onRms, { context = null, fftSize = 2048 } = {}) {
  const ctx = context || new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = fftSize;
  const source = ctx.createMediaStreamSource(stream);
  source.connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  let frame = 0;
  const loop = () => {
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf) sum += v * v;
    if (onRms(Math.sqrt(sum / buf.length)) === false) return;
    frame = requestAnimationFrame(loop);
  };
  loop();
  return {
    context: ctx,
    stop: () => {
      cancelAnimationFrame(frame);
      source.disconnect();
      if (!context) ctx.close().catch(() => {});
    },
  };
}

/**
 * A running microphone level meter: calls onLevel(level 0..1) every animation frame.
 * Local only: nothing leaves the page.
 */
export function meterMicrophone(stream, onLevel) {
  let level = 0;
  const meter = meterStream(stream, (rms) => {
    // Speech is ~0.02–0.2 RMS; a square root spreads that over the bar. Fall back slowly.
    level = Math.max(Math.min(1, Math.sqrt(rms) * 1.6), level * 0.9);
    onLevel(level, rms);
  }, { fftSize: 1024 });
  if (meter.context.state === "suspended") meter.context.resume().catch(() => {});
  return { resume: () => meter.context.resume().catch(() => {}), stop: meter.stop };
}

export function stopStream(stream) {
  if (stream) stream.getTracks().forEach((t) => t.stop());
}
