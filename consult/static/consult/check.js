// The network and hardware check: each step reports "works" or what to do about it.
const page = document.querySelector("[data-check]");
const iceServers = JSON.parse(document.getElementById("ice-servers").textContent);
const results = {};

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
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    const video = page.querySelector("[data-preview]");
    video.srcObject = stream;
    video.hidden = false;
    const track = stream.getVideoTracks()[0];
    const { width, height } = track ? track.getSettings() : {};
    report("camera", Boolean(track), width ? `${width}×${height}` : "");
    const audio = stream.getAudioTracks()[0];
    report("microphone", Boolean(audio));
    if (audio) showLevel(stream);
    return stream;
  } catch (error) {
    report("camera", false, error.name);
    report("microphone", false, error.name);
    return null;
  }
}

function showLevel(stream) {
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(stream).connect(analyser);
  const data = new Uint8Array(analyser.fftSize);
  const meter = page.querySelector("[data-level]");
  meter.hidden = false;
  (function tick() {
    analyser.getByteTimeDomainData(data);
    const peak = data.reduce((max, v) => Math.max(max, Math.abs(v - 128)), 0) / 128;
    meter.value = peak;
    requestAnimationFrame(tick);
  })();
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
  try {
    const context = new AudioContext();
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    gain.gain.value = 0.15;
    oscillator.frequency.value = 660;
    oscillator.connect(gain).connect(context.destination);
    oscillator.start();
    oscillator.stop(context.currentTime + 0.6);
    report("speaker", true);
  } catch (error) {
    report("speaker", false);
  }
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
