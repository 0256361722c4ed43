// What both of the page's room connections (the candidate's and a coach's) need from WebRTC.

/** The WebSocket URL of a server path, on this page's host. */
export function socketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${path}`;
}

/** Makes the offer and waits (up to 2 s) for ICE gathering, so it goes out with its candidates. */
export async function gatheredOffer(pc) {
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    pc.addEventListener("icegatheringstatechange", () => { if (pc.iceGatheringState === "complete") resolve(); });
    setTimeout(resolve, 2000);
  });
  return pc.localDescription.sdp;
}
