// The patient's waiting room: stays connected (heartbeats, reconnects by itself) and shows the state;
// when called in with a room address, goes there. Also the "more information" dialog and a device check.
import { levelMeter, openDevices, playTestSound, stopStream } from "./check.js";

const room = document.querySelector("[data-waiting-room]");
const HEARTBEAT_MS = 20000;
let socket, heartbeat, retries = 0, closedForGood = false;

function show(state) {
  room.querySelectorAll("[data-state]").forEach((p) => { p.hidden = p.dataset.state !== state; });
  room.dataset.current = state;
}

function showAnnouncements(items) {
  const section = room.querySelector("[data-announcements]");
  const list = section.querySelector("ul");
  list.replaceChildren(...items.map((text) => {
    const item = document.createElement("li");
    item.textContent = text; // plain text, never HTML
    return item;
  }));
  section.hidden = items.length === 0;
}

// Only a path on this site ("/c/room/"), never another origin or a javascript: URL.
export function sameOriginPath(url) {
  if (typeof url !== "string" || !url.startsWith("/") || url.startsWith("//") || url.startsWith("/\\")) return null;
  try {
    const target = new URL(url, location.origin);
    return target.origin === location.origin ? target.pathname + target.search + target.hash : null;
  } catch (error) {
    return null;
  }
}

function calledIn(message) {
  show("called");
  const target = sameOriginPath(message.room_url);
  if (target) {
    closedForGood = true;
    location.assign(target);
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}${room.dataset.socketPath}`);
  socket.addEventListener("open", () => {
    retries = 0;
    room.dataset.socket = "open";
    heartbeat = setInterval(() => socket.send(JSON.stringify({ type: "heartbeat" })), HEARTBEAT_MS);
  });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "status") show(message.state);
    if (message.type === "called") calledIn(message);
    if (message.type === "announcements") showAnnouncements(message.items);
  });
  socket.addEventListener("close", (event) => {
    clearInterval(heartbeat);
    room.dataset.socket = "closed";
    if (event.code === 4401 || event.code === 4403) { closedForGood = true; show("closed"); return; }
    if (closedForGood) return;
    show("reconnecting");
    retries += 1;
    // About 30 s of failed reconnects: worth the organisation's error report (once; the tries go on).
    if (retries === 5) {
      window.OpenConsultErrors?.report("socket_failed", "The waiting room's connection to the server does not come back",
        `close code ${event.code}, ${retries} tries`);
    }
    setTimeout(connect, Math.min(1000 * 2 ** retries, 15000));
  });
}

// --- "more information": the organisation's page in a dialog ----------------------------------------

function setUpMoreInfo() {
  const dialog = room.querySelector("[data-more-info]");
  const opener = room.querySelector("[data-more-info-open]");
  if (!dialog || !opener) return;
  const frame = dialog.querySelector("iframe");
  opener.addEventListener("click", () => {
    if (!frame.src) frame.src = frame.dataset.src; // loaded only when asked for
    dialog.showModal();
  });
  dialog.querySelector("[data-more-info-close]").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => opener.focus());
}

// --- device check: camera preview, microphone level, test sound --------------------------------------

const OUTCOMES = {
  NotAllowedError: "denied", SecurityError: "denied", PermissionDeniedError: "denied",
  NotFoundError: "missing", OverconstrainedError: "missing", DevicesNotFoundError: "missing",
  NotReadableError: "busy", TrackStartError: "busy", AbortError: "busy",
  NotSupportedError: "unsupported",
};

function setUpDeviceCheck() {
  const panel = room.querySelector("[data-device-check]");
  const toggle = room.querySelector("[data-device-check-toggle]");
  if (!panel || !toggle) return;
  const preview = panel.querySelector("[data-device-preview]");
  const levelRow = panel.querySelector("[data-device-level-row]");
  let stream = null, stopMeter = null, generation = 0; // generation: a late answer for a closed check is dropped

  function report(device, error) {
    const outcome = error ? (OUTCOMES[error] || "failed") : "ok";
    panel.querySelectorAll(`[data-device="${device}"] [data-outcome]`).forEach((span) => {
      span.hidden = span.dataset.outcome !== outcome;
    });
    panel.querySelector(`[data-device="${device}"]`).dataset.result = outcome;
  }

  function reset() {
    panel.querySelectorAll("[data-device] [data-outcome]").forEach((span) => {
      span.hidden = span.dataset.outcome !== "pending";
    });
  }

  async function start() {
    const mine = ++generation;
    reset();
    const devices = await openDevices();
    if (mine !== generation) { stopStream(devices.stream); return; } // closed while the browser was asking
    stream = devices.stream;
    report("camera", devices.camera);
    report("microphone", devices.microphone);
    // Refused or missing devices go to the organisation's error report (usage/static/usage/error-report.js).
    const errors = window.OpenConsultErrors;
    if (errors && devices.camera && devices.camera === devices.microphone) {
      errors.reportMedia(devices.camera, "device check: camera and microphone");
    } else if (errors) {
      if (devices.camera) errors.reportMedia(devices.camera, "device check: camera");
      if (devices.microphone) errors.reportMedia(devices.microphone, "device check: microphone");
    }
    if (!devices.camera) {
      preview.srcObject = stream;
      preview.hidden = false;
    }
    if (!devices.microphone) {
      levelRow.hidden = false;
      try {
        stopMeter = levelMeter(stream, panel.querySelector("[data-device-level]"));
      } catch (error) {
        levelRow.hidden = true;
      }
    }
  }

  function stop() {
    if (stopMeter) stopMeter();
    stopMeter = null;
    stopStream(stream); // the camera light goes off
    stream = null;
    preview.srcObject = null;
    preview.hidden = true;
    levelRow.hidden = true;
    panel.dataset.camera = "off";
  }

  function open() {
    panel.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    panel.dataset.camera = "on";
    start();
  }

  function close() {
    generation += 1;
    panel.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    stop();
  }

  toggle.addEventListener("click", () => (panel.hidden ? open() : close()));
  panel.querySelector("[data-device-check-close]").addEventListener("click", () => { close(); toggle.focus(); });
  panel.querySelector("[data-device-sound]").addEventListener("click", () => {
    const played = playTestSound();
    panel.querySelectorAll("[data-sound-outcome]").forEach((span) => {
      span.hidden = span.dataset.soundOutcome !== (played ? "ok" : "failed");
    });
  });
  window.addEventListener("pagehide", close);
}

if (room) {
  connect();
  setUpMoreInfo();
  setUpDeviceCheck();
}
