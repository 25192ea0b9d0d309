// The consultation room: a WebRTC mesh (up to four people) signalled over the room's WebSocket.
//
// Each pair of peers uses the "perfect negotiation" pattern (the peer with the greater id is polite),
// so both sides may add or replace tracks at any time without glare. Glare is still avoided where it
// can be: the one who arrives makes the first offer (the others wait for it before adding their
// tracks), and only the impolite side restarts ICE. (Chromium can stop gathering candidates after
// rolling back an offer that collided, which left calls without a connection.) A dropped socket reconnects by
// itself; media keeps flowing meanwhile, and a peer connection whose ICE fails restarts ICE. Peers are
// addressed by stable ids, and a random `session` per page load tells a reconnecting page (keep its
// connection) from a reloaded one (start a new connection).
import { createCaptionEngine } from "./room-captions.js";
import { createBackgroundBlur } from "./room-effects.js";

const root = document.querySelector("[data-room]");
const config = JSON.parse(document.getElementById("room-config").textContent);
const labels = document.querySelector("[data-labels]").dataset;
const $ = (selector) => root.querySelector(selector);
const HEARTBEAT_MS = 20000;
// Failures worth the organisation's error report (usage/static/usage/error-report.js; absent: nothing sent).
const reportError = (...args) => window.OpenConsultErrors?.report(...args);
const reportMedia = (...args) => window.OpenConsultErrors?.reportMedia(...args);
const DROPPED_AFTER_MS = 10000; // a "disconnected" peer usually comes back by itself within seconds
const SOCKET_GIVES_UP_AFTER = 5; // failed reconnects (about 25 s) before the socket counts as failed

const state = {
  me: null,
  session: crypto.randomUUID(),
  socket: null,
  retries: 0,
  stopped: false,
  stream: new MediaStream(),
  camera: null, // the camera's video track
  microphone: null,
  screen: null, // a screen-share track while sharing
  effect: null, // a background effect: { track, stop() }
  peers: new Map(), // peer id → { id, name, role, session, pc, polite, makingOffer, ignoreOffer, tile, videoSender, audioSender }
  unread: 0,
  startedAt: new Date(config.startedAt),
};
window.__room = state; // for the browser tests and for support staff debugging a call
state.log = []; // the last signalling events, for the same readers
function trace(...parts) {
  state.log.push(`${(performance.now() / 1000).toFixed(2)} ${parts.join(" ")}`);
  if (state.log.length > 200) state.log.shift();
}

function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, key) => values[key] ?? "");
}

function status(text) {
  $("[data-room-status]").textContent = text || "";
  root.dataset.connection = text === labels.reconnecting ? "reconnecting" : (state.socket?.readyState === 1 ? "open" : "closed");
}

// --- media ---------------------------------------------------------------------------------------

function videoConstraints(deviceId) {
  const height = Number($("[data-resolution]")?.value || 720);
  return { deviceId: deviceId ? { exact: deviceId } : undefined, height: { ideal: height }, width: { ideal: Math.round(height * 16 / 9) } };
}

async function startMedia() {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: videoConstraints() });
    state.microphone = stream.getAudioTracks()[0] || null;
    setCamera(stream.getVideoTracks()[0] || null);
  } catch (error) {
    reportMedia(error.name, `camera and microphone: ${error.message || ""}`);
    try { // no camera (or it is busy): join with sound only
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      state.microphone = stream.getAudioTracks()[0] || null;
      status(labels.noCamera);
    } catch (error2) {
      reportMedia(error2.name, `microphone: ${error2.message || ""}`);
      status(labels.noMedia);
    }
  }
  refreshLocalStream();
}

function setCamera(track) {
  if (state.camera && state.camera !== track) state.camera.stop();
  state.camera = track;
  if (track) track.addEventListener("ended", cameraFailed);
}

function cameraFailed() {
  if (!config.switches.cameraFailureCheck) return;
  $("[data-camera-failed]").hidden = false;
  $("[data-camera-failed] a").focus();
}

function outgoingVideo() {
  return state.screen || state.effect?.track || state.camera;
}

function refreshLocalStream() {
  const tracks = [state.microphone, outgoingVideo()].filter(Boolean);
  state.stream = new MediaStream(tracks);
  const local = $("[data-local-video]");
  local.srcObject = state.stream;
  local.classList.toggle("mirrored", !state.screen);
  for (const peer of state.peers.values()) if (peer.sending) sendTracks(peer);
}

function sendTracks(peer) {
  peer.sending = true;
  // replaceTrack needs no renegotiation; addTrack (first time) triggers negotiationneeded.
  const audio = state.microphone, video = outgoingVideo();
  if (audio) {
    if (peer.audioSender) peer.audioSender.replaceTrack(audio);
    else peer.audioSender = peer.pc.addTrack(audio, state.stream);
  }
  if (video) {
    if (peer.videoSender) peer.videoSender.replaceTrack(video);
    else peer.videoSender = peer.pc.addTrack(video, state.stream);
  }
}

function broadcastMediaState() {
  send({
    type: "media",
    audio: !!state.microphone?.enabled,
    video: !!(state.screen || (state.camera && state.camera.enabled)),
    screen: !!state.screen,
  });
}

// --- signalling ----------------------------------------------------------------------------------

function send(message) {
  const open = state.socket?.readyState === WebSocket.OPEN;
  if (message.type === "signal") trace(open ? "out" : "LOST", message.to, message.data.description?.type || "candidate");
  if (open) state.socket.send(JSON.stringify(message));
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${config.socketPath}`);
  state.socket = socket;
  let heartbeat;
  socket.addEventListener("open", () => {
    state.retries = 0;
    socket.send(JSON.stringify({ type: "hello", session: state.session }));
    heartbeat = setInterval(() => send({ type: "heartbeat" }), HEARTBEAT_MS);
  });
  socket.addEventListener("message", (event) => {
    let message;
    try { message = JSON.parse(event.data); } catch { return; }
    const handler = handlers[message.type];
    trace("in", message.type, message.from || message.peer?.id || "", message.data?.description?.type || (message.data?.candidate ? "candidate" : ""));
    if (handler) handler(message);
  });
  socket.addEventListener("close", (event) => {
    clearInterval(heartbeat);
    if (socket !== state.socket || state.stopped) return;
    if (event.code === 4410) return leave();
    if (event.code === 4409) return stop(labels.replaced);
    if (event.code === 4429) return stop(labels.full);
    if (event.code === 4401 || event.code === 4403) return stop(labels.closed, true);
    status(labels.reconnecting);
    state.retries += 1;
    if (state.retries === SOCKET_GIVES_UP_AFTER) {
      reportError("socket_failed", "The room's connection to the server does not come back", `close code ${event.code}, ${state.retries} tries`);
    }
    setTimeout(connect, Math.min(500 * 2 ** state.retries, 10000));
  });
}

const handlers = {
  welcome(message) {
    state.me = message.you;
    state.startedAt = new Date(message.started_at);
    status(labels.connected);
    setTimeout(() => { if ($("[data-room-status]").textContent === labels.connected) status(""); }, 3000);
    const present = new Set(message.peers.map((peer) => peer.id));
    for (const id of [...state.peers.keys()]) if (!present.has(id)) markPeerAway(id);
    for (const peer of message.peers) ensurePeer(peer, { initiate: true });
    $("[data-chat-log]").replaceChildren();
    message.chat.forEach((item) => showChat(item, false));
    $("[data-files]")?.replaceChildren();
    message.files.forEach(showFile);
    broadcastMediaState();
  },
  "peer-joined"(message) {
    ensurePeer(message.peer, { initiate: false });
    announce(format(labels.joined, { name: message.peer.name }));
  },
  "peer-left"(message) {
    const peer = state.peers.get(message.id);
    if (!peer) return;
    if (message.final) {
      announce(format(labels.left, { name: peer.name }));
      removePeer(message.id);
    } else {
      markPeerAway(message.id);
    }
  },
  signal(message) { onSignal(message.from, message.data); },
  chat(message) { showChat(message.message, true); },
  file(message) { showFile(message.file); },
  media(message) {
    const peer = state.peers.get(message.from);
    if (peer) showFlags(peer.tile, message);
  },
  caption(message) { showCaption(message); },
  ended() { leave(); },
  replaced() { stop(labels.replaced); },
  error(message) { announce(message.message); },
};

function announce(text) {
  status(text);
  setTimeout(() => { if ($("[data-room-status]").textContent === text) status(""); }, 5000);
}

function ensurePeer(info, { initiate }) {
  const existing = state.peers.get(info.id);
  if (existing) {
    existing.name = info.name || existing.name;
    existing.tile.querySelector("[data-name]").textContent = existing.name;
    const broken = ["failed", "closed"].includes(existing.pc.connectionState);
    if (info.session && existing.session && info.session !== existing.session || broken) {
      removePeer(info.id); // the other page was reloaded: its old connection is gone
    } else {
      existing.session = info.session || existing.session;
      existing.tile.querySelector("[data-tile-state]").textContent = "";
      existing.tile.classList.remove("away");
      const up = ["connected", "completed"].includes(existing.pc.iceConnectionState);
      if (!up && !existing.polite) existing.pc.restartIce(); // signals may have been lost while the socket was down
      return existing;
    }
  }
  const pc = new RTCPeerConnection({ iceServers: config.iceServers });
  const peer = {
    id: info.id, name: info.name || "", role: info.role, session: info.session, pc,
    polite: state.me ? state.me.id > info.id : true, makingOffer: false, ignoreOffer: false,
    tile: addTile(info), videoSender: null, audioSender: null, sending: false,
  };
  state.peers.set(info.id, peer);
  pc.addEventListener("negotiationneeded", async () => {
    trace("negotiationneeded", peer.id, pc.signalingState);
    try {
      peer.makingOffer = true;
      await pc.setLocalDescription();
      send({ type: "signal", to: peer.id, data: { description: pc.localDescription.toJSON() } });
    } catch (error) {
      trace("negotiation failed", error);
      console.warn("negotiation failed", error);
    } finally {
      peer.makingOffer = false;
    }
  });
  pc.addEventListener("icecandidate", ({ candidate }) => {
    if (candidate) send({ type: "signal", to: peer.id, data: { candidate: candidate.toJSON() } });
  });
  pc.addEventListener("track", ({ track, streams }) => {
    const video = peer.tile.querySelector("video");
    const stream = video.srcObject instanceof MediaStream ? video.srcObject : new MediaStream();
    (streams[0] ? streams[0].getTracks() : [track]).forEach((t) => {
      if (!stream.getTracks().includes(t)) stream.addTrack(t);
    });
    video.srcObject = stream;
    applySpeaker(video);
    updateLayout();
  });
  pc.addEventListener("iceconnectionstatechange", () => {
    if (pc.iceConnectionState === "failed") reportPeerFailure(peer);
    if (pc.iceConnectionState === "failed" && !peer.polite) pc.restartIce();
  });
  pc.addEventListener("connectionstatechange", () => {
    const text = { connecting: labels.connecting, disconnected: labels.peerReconnecting, failed: labels.peerReconnecting }[pc.connectionState] || "";
    peer.tile.querySelector("[data-tile-state]").textContent = text;
    peer.tile.dataset.state = pc.connectionState;
    if (pc.connectionState === "failed") reportPeerFailure(peer);
    if (pc.connectionState === "failed" && !peer.polite) pc.restartIce();
    watchDisconnect(peer);
  });
  // A watchdog: signals can be lost (a socket that dropped mid-offer); a connection that is not up after a
  // while restarts ICE, which renegotiates from whatever state both sides are in.
  peer.watchdog = setInterval(() => {
    if (pc.connectionState === "closed") return clearInterval(peer.watchdog);
    const stuck = pc.connectionState !== "connected" && pc.signalingState === "stable";
    if (stuck && !peer.polite && state.socket?.readyState === 1) {
      if (peer.sending) pc.restartIce();
      else sendTracks(peer); // the newcomer's offer never came: offer ourselves
    }
  }, 8000);
  if (initiate) sendTracks(peer); // else the newcomer's offer comes first; tracks are added to the answer
  updateLayout();
  return peer;
}

// Both ICE and the connection say "failed" for one failure: one report per connection.
function reportPeerFailure(peer) {
  if (peer.failureReported) return;
  peer.failureReported = true;
  reportError("ice_failed", "The connection with another participant failed",
    `with ${peer.role || "participant"}; ice ${peer.pc.iceConnectionState}, connection ${peer.pc.connectionState}, ` +
    `signalling ${peer.pc.signalingState}, socket ${state.socket?.readyState === 1 ? "open" : "closed"}`);
}

// "disconnected" often heals by itself (a network switch); one that lasts DROPPED_AFTER_MS is a dropped call.
function watchDisconnect(peer) {
  const pc = peer.pc;
  if (pc.connectionState !== "disconnected") {
    clearTimeout(peer.dropTimer);
    peer.dropTimer = null;
    return;
  }
  if (peer.dropTimer) return;
  peer.dropTimer = setTimeout(() => {
    peer.dropTimer = null;
    if (pc.connectionState === "disconnected" && state.peers.get(peer.id) === peer && !state.stopped) {
      reportError("connection_dropped", "The connection with another participant dropped",
        `with ${peer.role || "participant"}; disconnected for ${DROPPED_AFTER_MS / 1000} s`);
    }
  }, DROPPED_AFTER_MS);
}

async function onSignal(from, data) {
  if (!data || typeof data !== "object") return;
  let peer = state.peers.get(from);
  if (!peer) peer = ensurePeer({ id: from, name: "" }, { initiate: false });
  const pc = peer.pc;
  try {
    if (data.description) {
      const description = data.description;
      const collision = description.type === "offer" && (peer.makingOffer || pc.signalingState !== "stable");
      peer.ignoreOffer = !peer.polite && collision;
      trace("description", from, description.type, collision ? "collision" : "", peer.ignoreOffer ? "ignored" : "");
      if (peer.ignoreOffer) return;
      await pc.setRemoteDescription(description);
      if (description.type === "offer") {
        if (!peer.sending) sendTracks(peer); // reuses the offer's transceivers: no second round
        await pc.setLocalDescription();
        send({ type: "signal", to: from, data: { description: pc.localDescription.toJSON() } });
      }
    } else if (data.candidate) {
      try {
        await pc.addIceCandidate(data.candidate);
      } catch (error) {
        if (!peer.ignoreOffer) throw error;
      }
    }
  } catch (error) {
    trace("signal failed", error);
    console.warn("signal failed", error);
  }
}

function markPeerAway(id) {
  const peer = state.peers.get(id);
  if (!peer) return;
  peer.tile.classList.add("away");
  peer.tile.querySelector("[data-tile-state]").textContent = labels.peerReconnecting;
}

function removePeer(id) {
  const peer = state.peers.get(id);
  if (!peer) return;
  clearInterval(peer.watchdog);
  clearTimeout(peer.dropTimer);
  peer.pc.close();
  peer.tile.remove();
  state.peers.delete(id);
  updateLayout();
}

// --- tiles and layout ----------------------------------------------------------------------------

function addTile(info) {
  const tile = $("[data-tile-template]").content.firstElementChild.cloneNode(true);
  tile.dataset.tile = info.id;
  tile.dataset.role = info.role || "";
  tile.querySelector("[data-name]").textContent = info.name || "";
  tile.setAttribute("aria-label", `${labels.enlarge}: ${info.name || ""}`);
  const toggle = () => {
    const enlarge = !tile.classList.contains("enlarged");
    root.querySelectorAll(".tile.enlarged").forEach((t) => { t.classList.remove("enlarged"); t.setAttribute("aria-pressed", "false"); });
    tile.classList.toggle("enlarged", enlarge);
    tile.setAttribute("aria-pressed", String(enlarge));
    $("[data-stage]").classList.toggle("has-enlarged", enlarge);
  };
  tile.addEventListener("click", toggle);
  tile.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); toggle(); }
  });
  $("[data-stage]").append(tile);
  return tile;
}

function updateLayout() {
  const count = state.peers.size + 1;
  $("[data-stage]").dataset.count = String(Math.min(count, 4));
  $("[data-alone]").hidden = state.peers.size > 0;
  $("[data-pip]").hidden = !(document.pictureInPictureEnabled && state.peers.size > 0);
}

function showFlags(tile, media) {
  const flags = [];
  if (!media.audio) flags.push(labels.muted);
  if (!media.video) flags.push(labels.noVideo);
  if (media.screen) flags.push(labels.sharing);
  tile.querySelector("[data-flags]").textContent = flags.length ? `(${flags.join(", ")})` : "";
  tile.classList.toggle("no-video", !media.video);
  tile.classList.toggle("screen", !!media.screen);
}

// --- clock ---------------------------------------------------------------------------------------

function tick() {
  const now = new Date();
  $("[data-clock]").textContent = now.toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
  $("[data-clock]").dateTime = now.toISOString();
  const seconds = Math.max(0, Math.floor((now - state.startedAt) / 1000));
  const h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
  const pad = (n) => String(n).padStart(2, "0");
  $("[data-duration]").textContent = h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

// --- chat and files ------------------------------------------------------------------------------

const URL_PATTERN = /(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)])/g;

function linkified(text) {
  // Text nodes and <a> elements only: a message can never become HTML.
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    fragment.append(text.slice(last, match.index));
    const link = document.createElement("a");
    link.href = match[0];
    link.textContent = match[0];
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    fragment.append(link);
    last = match.index + match[0].length;
  }
  fragment.append(text.slice(last));
  return fragment;
}

function showChat(message, live) {
  const item = document.createElement("li");
  item.className = message.from === state.me?.id ? "mine" : "theirs";
  const who = document.createElement("span");
  who.className = "chat-who";
  who.textContent = message.from === state.me?.id ? labels.you : message.name;
  const when = document.createElement("time");
  when.dateTime = message.at;
  when.textContent = new Date(message.at).toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
  const text = document.createElement("p");
  text.append(linkified(message.text));
  item.append(who, " ", when, text);
  $("[data-chat-log]").append(item);
  item.scrollIntoView({ block: "nearest" });
  if (live && $("[data-side]").hidden && message.from !== state.me?.id) {
    state.unread += 1;
    const badge = $("[data-unread]");
    badge.textContent = String(state.unread);
    badge.hidden = false;
  }
}

function sizeText(bytes) {
  // Intl's units need no translation: "2,4 MB" in Dutch, "2.4 MB" in English.
  const [value, unit] = bytes >= 1e6 ? [bytes / 1e6, "megabyte"] : [Math.max(1, bytes / 1e3), "kilobyte"];
  return new Intl.NumberFormat(document.documentElement.lang, { style: "unit", unit, unitDisplay: "short", maximumFractionDigits: 1 }).format(value);
}

function fileUrl(id) {
  return `${config.filesUrl}${id}/`;
}

function showFile(file) {
  const list = $("[data-files]");
  if (!list || list.querySelector(`[data-file-id="${file.id}"]`)) return;
  const item = document.createElement("li");
  item.dataset.fileId = file.id;
  const link = document.createElement("a");
  link.href = fileUrl(file.id);
  link.download = file.name;
  link.textContent = file.name;
  const meta = document.createElement("span");
  meta.className = "muted small";
  meta.textContent = ` ${sizeText(file.size)} · ${file.sender}`;
  item.append(link, meta);
  list.append(item);
  if ($("[data-side]").hidden && file.from !== state.me?.id) {
    state.unread += 1;
    $("[data-unread]").textContent = String(state.unread);
    $("[data-unread]").hidden = false;
  }
}

function csrfToken() {
  return root.querySelector("input[name=csrfmiddlewaretoken]")?.value || "";
}

function uploadFile(file) {
  const error = $("[data-file-error]");
  const progress = $("[data-file-progress]");
  error.hidden = true;
  if (file.size > config.fileMaxBytes) {
    error.textContent = labels.tooLarge;
    error.hidden = false;
    return;
  }
  const body = new FormData();
  body.append("file", file);
  const request = new XMLHttpRequest(); // XHR, not fetch: it reports upload progress
  request.open("POST", config.filesUrl);
  request.setRequestHeader("X-CSRFToken", csrfToken());
  request.upload.addEventListener("progress", (event) => {
    if (event.lengthComputable) progress.value = Math.round(100 * event.loaded / event.total);
  });
  request.addEventListener("loadend", () => {
    progress.hidden = true;
    if (request.status === 201) {
      showFile(JSON.parse(request.responseText).file);
    } else {
      let text = labels.uploadFailed;
      try { text = JSON.parse(request.responseText).error || text; } catch { /* not JSON */ }
      error.textContent = text;
      error.hidden = false;
    }
  });
  progress.value = 0;
  progress.hidden = false;
  request.send(body);
}

// --- captions ------------------------------------------------------------------------------------

const captionTimers = new Map();

function showCaption(message) {
  const box = $("[data-captions]");
  let line = box.querySelector(`[data-caption-from="${CSS.escape(message.from)}"]`);
  if (!line) {
    line = document.createElement("p");
    line.dataset.captionFrom = message.from;
    box.append(line);
  }
  line.textContent = `${message.name}: ${message.text}`;
  box.hidden = false;
  clearTimeout(captionTimers.get(message.from));
  captionTimers.set(message.from, setTimeout(() => { line.remove(); box.hidden = !box.children.length; }, 6000));
}

// --- tools ---------------------------------------------------------------------------------------

function setPressed(button, pressed, label) {
  button.setAttribute("aria-pressed", String(pressed));
  if (label) button.textContent = label;
}

function wireTools() {
  $("[data-toggle-mic]").addEventListener("click", (event) => {
    if (!state.microphone) return;
    state.microphone.enabled = !state.microphone.enabled;
    setPressed(event.currentTarget, !state.microphone.enabled, state.microphone.enabled ? labels.mute : labels.unmute);
    broadcastMediaState();
  });
  $("[data-toggle-camera]").addEventListener("click", (event) => {
    if (!state.camera) return;
    state.camera.enabled = !state.camera.enabled;
    setPressed(event.currentTarget, !state.camera.enabled, state.camera.enabled ? labels.cameraOff : labels.cameraOn);
    broadcastMediaState();
  });
  const screenButton = $("[data-toggle-screen]");
  if (screenButton && navigator.mediaDevices?.getDisplayMedia) {
    screenButton.hidden = false;
    screenButton.addEventListener("click", () => (state.screen ? stopScreenShare() : startScreenShare()));
  }
  $("[data-toggle-chat]").addEventListener("click", () => toggleSide());
  $("[data-close-side]").addEventListener("click", () => toggleSide(false));
  $("[data-chat-form]").addEventListener("submit", (event) => {
    event.preventDefault();
    const field = event.currentTarget.elements.text;
    const text = field.value.trim();
    if (!text) return;
    send({ type: "chat", text });
    field.value = "";
  });
  $("[data-chat-form] textarea").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); event.currentTarget.form.requestSubmit(); }
  });
  $("[data-file-input]")?.addEventListener("change", (event) => {
    const [file] = event.currentTarget.files;
    if (file) uploadFile(file);
    event.currentTarget.value = "";
  });
  $("[data-fullscreen]").addEventListener("click", () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else root.requestFullscreen?.();
  });
  $("[data-pip]").addEventListener("click", async () => {
    const video = root.querySelector(".tile.enlarged video") || root.querySelector(".tile:not(.tile-local) video");
    if (!video) return;
    if (document.pictureInPictureElement) await document.exitPictureInPicture();
    else await video.requestPictureInPicture().catch(() => {});
  });
  wireSettings();
  wireCaptions();
  wireStaffTools();
  $("[data-dismiss-camera]").addEventListener("click", () => { $("[data-camera-failed]").hidden = true; });
}

function toggleSide(open) {
  const side = $("[data-side]");
  const show = open ?? side.hidden;
  side.hidden = !show;
  setPressed($("[data-toggle-chat]"), show);
  if (show) {
    state.unread = 0;
    $("[data-unread]").hidden = true;
    side.querySelector("textarea").focus();
  }
}

async function startScreenShare() {
  try {
    const capture = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    state.screen = capture.getVideoTracks()[0];
    state.screen.addEventListener("ended", stopScreenShare);
    setPressed($("[data-toggle-screen]"), true, labels.stopShare);
    refreshLocalStream();
    broadcastMediaState();
  } catch (error) {
    console.info("screen sharing cancelled", error);
  }
}

function stopScreenShare() {
  if (!state.screen) return;
  state.screen.stop();
  state.screen = null;
  setPressed($("[data-toggle-screen]"), false, labels.share);
  refreshLocalStream();
  broadcastMediaState();
}

// --- device settings -----------------------------------------------------------------------------

let levelTimer;

async function fillDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const select of root.querySelectorAll("[data-device]")) {
    const kind = select.dataset.device;
    const current = kind === "videoinput" ? state.camera?.getSettings().deviceId
      : kind === "audioinput" ? state.microphone?.getSettings().deviceId : select.value;
    select.replaceChildren(...devices.filter((d) => d.kind === kind).map((device, index) => {
      const option = new Option(device.label || `${select.labels[0]?.textContent || ""} ${index + 1}`, device.deviceId);
      option.selected = device.deviceId === current;
      return option;
    }));
  }
  $("[data-speaker-field]").hidden = !("setSinkId" in HTMLMediaElement.prototype) || !$("[data-device=audiooutput]").options.length;
}

function applySpeaker(video) {
  const sink = $("[data-device=audiooutput]")?.value;
  if (sink && video.setSinkId) video.setSinkId(sink).catch(() => {});
}

function showLevel() {
  clearInterval(levelTimer);
  if (!state.microphone) return;
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(new MediaStream([state.microphone])).connect(analyser);
  const samples = new Uint8Array(analyser.fftSize);
  levelTimer = setInterval(() => {
    if (!$("[data-settings]").open) { clearInterval(levelTimer); context.close(); return; }
    analyser.getByteTimeDomainData(samples);
    const peak = samples.reduce((max, v) => Math.max(max, Math.abs(v - 128)), 0) / 128;
    $("[data-settings-level]").value = peak;
  }, 100);
}

function openSettings() {
  const dialog = $("[data-settings]");
  $("[data-settings-preview]").srcObject = state.camera ? new MediaStream([outgoingVideo()]) : null;
  fillDevices();
  dialog.showModal();
  showLevel();
}

function wireSettings() {
  const dialog = $("[data-settings]");
  $("[data-open-settings]").addEventListener("click", openSettings);
  $("[data-close-settings]").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => { if (!state.socket) connect(); });
  $("[data-device=videoinput]").addEventListener("change", async (event) => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: videoConstraints(event.currentTarget.value) });
    await setBackground("none");
    setCamera(stream.getVideoTracks()[0]);
    refreshLocalStream();
    $("[data-settings-preview]").srcObject = new MediaStream([state.camera]);
  });
  $("[data-device=audioinput]").addEventListener("change", async (event) => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { deviceId: { exact: event.currentTarget.value } } });
    state.microphone?.stop();
    state.microphone = stream.getAudioTracks()[0];
    refreshLocalStream();
    showLevel();
  });
  $("[data-device=audiooutput]").addEventListener("change", () => {
    root.querySelectorAll(".tile video").forEach(applySpeaker);
  });
  $("[data-resolution]")?.addEventListener("change", async (event) => {
    const height = Number(event.currentTarget.value);
    await state.camera?.applyConstraints({ height: { ideal: height }, width: { ideal: Math.round(height * 16 / 9) } })
      .catch((error) => console.info("resolution not available", error));
  });
  $("[data-background]")?.addEventListener("change", (event) => {
    rememberBackground(event.currentTarget.value);
    setBackground(event.currentTarget.value);
  });
}

// The chosen background is kept on this device for the next consult (F-ORG-6: "warn when a replaced
// background is still on" is about exactly that blur coming back by itself).
const BACKGROUND_KEY = "openconsult.room.background";

function rememberBackground(kind) {
  try { localStorage.setItem(BACKGROUND_KEY, kind); } catch { /* storage blocked: nothing is remembered */ }
}

function rememberedBackground() {
  try { return localStorage.getItem(BACKGROUND_KEY); } catch { return null; }
}

async function restoreBackground() {
  if (!config.switches.backgroundEffects || rememberedBackground() !== "blur" || !state.camera) return;
  await setBackground("blur");
  if (!state.effect) return;
  $("[data-background]").value = "blur";
  if (config.switches.warnBackgroundActive) showBackgroundNotice();
}

function showBackgroundNotice() {
  const notice = $("[data-background-notice]");
  const content = $("[data-background-notice-template]").content.cloneNode(true);
  content.querySelector("[data-background-off]").addEventListener("click", () => {
    rememberBackground("none");
    setBackground("none");
    notice.replaceChildren();
  });
  content.querySelector("[data-background-keep]").addEventListener("click", () => notice.replaceChildren());
  notice.replaceChildren(content); // into the live region, so screen readers announce it
}

async function setBackground(kind) {
  const select = $("[data-background]");
  const note = $("[data-background-status]");
  if (state.effect) { state.effect.stop(); state.effect = null; }
  if (kind === "blur" && state.camera) {
    note.textContent = labels.blurLoading;
    try {
      state.effect = await createBackgroundBlur(state.camera, config.vendor.segmentation);
      note.textContent = "";
    } catch (error) {
      console.warn("background blur failed", error);
      note.textContent = labels.blurFailed;
      if (select) select.value = "none";
    }
  } else if (select) {
    select.value = "none";
  }
  refreshLocalStream();
  if ($("[data-settings]").open) $("[data-settings-preview]").srcObject = new MediaStream([outgoingVideo()].filter(Boolean));
}

// --- captions ------------------------------------------------------------------------------------

function wireCaptions() {
  const button = $("[data-toggle-captions]");
  const engine = createCaptionEngine();
  if (!engine) return; // no speech recognition in this browser: the button stays hidden
  button.hidden = false;
  button.addEventListener("click", () => {
    if (engine.running) {
      engine.stop();
      setPressed(button, false);
    } else {
      engine.start(document.documentElement.lang, (text, final) => send({ type: "caption", text, final }),
        () => { setPressed(button, false); announce(labels.captionsOff); });
      setPressed(button, true);
    }
  });
}

// --- staff ---------------------------------------------------------------------------------------

function wireStaffTools() {
  const addDialog = $("[data-add]");
  if (addDialog) {
    $("[data-open-add]").addEventListener("click", () => {
      $("[data-add-form]").hidden = false;
      $("[data-add-result]").hidden = true;
      addDialog.showModal();
    });
    $("[data-close-add]").addEventListener("click", () => addDialog.close());
    $("[data-add-form]").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.currentTarget;
      const error = $("[data-add-error]");
      error.hidden = true;
      const response = await fetch(config.participantsUrl, {
        method: "POST", body: new FormData(form), headers: { "X-CSRFToken": csrfToken() }, credentials: "same-origin",
      });
      const body = await response.json().catch(() => ({}));
      if (response.status === 201) {
        $("[data-add-message]").textContent = format(labels.linkSent, { name: body.name });
        $("[data-add-link]").value = body.link;
        form.reset();
        form.hidden = true;
        $("[data-add-result]").hidden = false;
        $("[data-add-link]").select();
      } else {
        error.textContent = Object.values(body.errors || {}).flat().join(" ") || labels.addFailed;
        error.hidden = false;
      }
    });
  }
  // The walk-in switch posts in the background: leaving the page would drop the call.
  $("[data-walk-in]")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const response = await fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    });
    if (!response.ok) return;
    const { open } = await response.json();
    const button = form.querySelector("button");
    setPressed(button, open, open ? button.dataset.labelOpen : button.dataset.labelClosed);
    form.elements.open.value = open ? "0" : "1";
  });
  const endDialog = $("[data-end]");
  if (endDialog) {
    $("[data-open-end]").addEventListener("click", () => endDialog.showModal());
    $("[data-close-end]").addEventListener("click", () => endDialog.close());
  }
}

// --- leaving -------------------------------------------------------------------------------------

function releaseMedia() {
  [state.camera, state.microphone, state.screen].forEach((track) => track?.stop());
  state.effect?.stop();
  for (const peer of state.peers.values()) peer.pc.close();
}

function leave() {
  state.stopped = true;
  status(labels.ended);
  releaseMedia();
  location.assign(config.leaveUrl);
}

function stop(text, leaveAfter = false) {
  state.stopped = true;
  status(text);
  releaseMedia();
  state.socket?.close();
  if (leaveAfter) setTimeout(() => location.assign(config.leaveUrl), 3000);
}

window.addEventListener("pagehide", () => {
  if (!state.stopped) send({ type: "bye" });
});

// --- start ---------------------------------------------------------------------------------------

async function start() {
  wireTools();
  tick();
  setInterval(tick, 1000);
  await startMedia();
  // Not awaited: the blur's model takes seconds to load, and joining should not wait for it.
  restoreBackground();
  if (config.switches.deviceSettingsFirst) {
    openSettings(); // joining waits until the settings are closed
  } else {
    connect();
  }
}

start();
