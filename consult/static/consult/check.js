// The network and hardware check: each step reports "works" or what to do about it.
// openDevices, levelMeter, playTestSound and stopStream are shared with the waiting room's device check.
const page = document.querySelector("[data-check]");
const iceServers = page ? JSON.parse(document.getElementById("ice-servers").textContent) : [];
const results = {};

// Camera and microphone together; when one is missing or busy, each on its own. Errors are DOMException
// names: NotAllowedError (permission refused), NotFoundError (no such device), NotReadableError (in use).
export async function openDevices() {
  if (!navigator.mediaDevices?.getUserMedia) {
    return { stream: null, camera: "NotSupportedError", microphone: "NotSupportedError" };
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    return {
      stream,
      camera: stream.getVideoTracks().length ? null : "NotFoundError",
      microphone: stream.getAudioTracks().length ? null : "NotFoundError",
    };
  } catch (error) {
    if (!["NotFoundError", "OverconstrainedError", "NotReadableError"].includes(error.name)) {
      return { stream: null, camera: error.name, microphone: error.name };
    }
  }
  const tracks = [];
  const outcome = {};
  for (const [device, constraints] of [["camera", { video: true }], ["microphone", { audio: true }]]) {
    try {
      tracks.push(...(await navigator.mediaDevices.getUserMedia(constraints)).getTracks());
      outcome[device] = null;
    } catch (error) {
      outcome[device] = error.name;
    }
  }
  return { stream: tracks.length ? new MediaStream(tracks) : null, ...outcome };
}

export function stopStream(stream) {
  if (stream) stream.getTracks().forEach((track) => track.stop());
}

// Moves `meter` (a <meter> from 0 to 1) with the microphone's loudness; returns a function that stops it.
export function levelMeter(stream, meter) {
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(stream).connect(analyser);
  const data = new Uint8Array(analyser.fftSize);
  let frame;
  (function tick() {
    analyser.getByteTimeDomainData(data);
    meter.value = data.reduce((max, v) => Math.max(max, Math.abs(v - 128)), 0) / 128;
    frame = requestAnimationFrame(tick);
  })();
  return () => { cancelAnimationFrame(frame); context.close(); };
}

// A short tone through the speaker; false when this browser cannot play sound.
export function playTestSound() {
  try {
    const context = new AudioContext();
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    gain.gain.value = 0.15;
    oscillator.frequency.value = 660;
    oscillator.connect(gain).connect(context.destination);
    oscillator.addEventListener("ended", () => context.close());
    oscillator.start();
    oscillator.stop(context.currentTime + 0.6);
    return true;
  } catch (error) {
    return false;
  }
}

function report(name, ok, detail = "") {
  const item = page.querySelector(`[data-check-item="${name}"] .check-result`);
  item.textContent = (ok ? item.dataset.ok : item.dataset.fail) + (detail ? ` (${detail})` : "");
  item.parentElement.dataset.result = ok ? "ok" : "fail";
  results[name] = ok;
}

function checkBrowser() {
  const ok = Boolean(navigator.mediaDevices?.getUserMedia && window.RTCPeerConnection && window.WebSocket);
  report("browser", ok);
  report("screen", Boolean(navigator.mediaDevices?.getDisplayMedia));
  return ok;
}

async function checkDevices() {
  const { stream, camera, microphone } = await openDevices();
  const track = stream?.getVideoTracks()[0];
  if (track) {
    const video = page.querySelector("[data-preview]");
    video.srcObject = stream;
    video.hidden = false;
  }
  const { width, height } = track ? track.getSettings() : {};
  report("camera", !camera, camera || (width ? `${width}×${height}` : ""));
  report("microphone", !microphone, microphone || "");
  if (!microphone) {
    const meter = page.querySelector("[data-level]");
    meter.hidden = false;
    levelMeter(stream, meter);
  }
  return stream;
}

function checkServer() {
  return new Promise((resolve) => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${page.dataset.socketPath}`);
    const started = performance.now();
    const timer = setTimeout(() => { report("server", false); socket.close(); resolve(false); }, 8000);
    socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "ping", id: 1 })));
    socket.addEventListener("message", () => {
      clearTimeout(timer);
      report("server", true, `${Math.round(performance.now() - started)} ms`);
      socket.close();
      resolve(true);
    });
    socket.addEventListener("error", () => { clearTimeout(timer); report("server", false); resolve(false); });
  });
}

async function checkWebRTC(stream) {
  // Two connections in this page exchange video through the same ICE servers a consult uses.
  const caller = new RTCPeerConnection({ iceServers });
  const callee = new RTCPeerConnection({ iceServers });
  caller.onicecandidate = (e) => e.candidate && callee.addIceCandidate(e.candidate);
  callee.onicecandidate = (e) => e.candidate && caller.addIceCandidate(e.candidate);
  const connected = new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 10000);
    callee.onconnectionstatechange = () => {
      if (callee.connectionState === "connected") { clearTimeout(timer); resolve(true); }
      if (callee.connectionState === "failed") { clearTimeout(timer); resolve(false); }
    };
  });
  if (stream) stream.getTracks().forEach((t) => caller.addTrack(t, stream));
  else caller.createDataChannel("check");
  await caller.setLocalDescription(await caller.createOffer());
  await callee.setRemoteDescription(caller.localDescription);
  await callee.setLocalDescription(await callee.createAnswer());
  await caller.setRemoteDescription(callee.localDescription);
  const ok = await connected;
  report("webrtc", ok);
  caller.close();
  callee.close();
  return ok;
}

function playTone() {
  report("speaker", playTestSound());
}

async function run() {
  const button = page.querySelector("[data-start]");
  button.disabled = true;
  if (!checkBrowser()) return;
  const stream = await checkDevices();
  await checkServer();
  await checkWebRTC(stream);
  const needed = ["browser", "camera", "microphone", "server", "webrtc"];
  const summary = page.querySelector("[data-summary]");
  const allGood = needed.every((name) => results[name]);
  summary.textContent = allGood ? summary.dataset.ok : summary.dataset.fail;
  summary.hidden = false;
  page.dataset.done = allGood ? "ok" : "fail";
  button.disabled = false;
}

if (page) {
  page.querySelector("[data-start]").addEventListener("click", run);
  page.querySelector("[data-tone]").addEventListener("click", playTone);
}
