// The waiting-room count in the portal's navigation, live on every portal page, and the optional doorbell.
//
// This is the page's one staff socket (/ws/waiting/staff/): other scripts (waiting-list.js) listen to the
// events it sends on `document` instead of opening their own:
//   "waiting:changed"     someone entered, left or was called in (also after every (re)connect)
//   "waiting:connection"  detail.state: "live", "reconnecting" or "closed"; the latest is on
//                         document.documentElement.dataset.waitingSocket for scripts that start later.
import { changeSocket, countFetcher } from "./live-count.js";

const badge = document.querySelector("[data-waiting-badge]");
const STORAGE_KEY = "openconsult.doorbell";
let count = null; // null until the first answer: the first count never rings
let audio = null;
let fetchCount = null;

function emit(name, detail) {
  document.dispatchEvent(new CustomEvent(name, { detail }));
}

function setConnection(state) {
  document.documentElement.dataset.waitingSocket = state;
  emit("waiting:connection", { state });
}

function show(next) {
  badge.dataset.count = String(next);
  badge.querySelector("[data-waiting-count]").textContent = String(next);
  badge.hidden = next === 0;
}

async function refreshCount() {
  const next = await fetchCount();
  if (next === null) return;
  if (count !== null && next > count) arrived();
  count = next;
  show(next);
}

// --- the doorbell: a two-tone chime from the Web Audio API, only when the organisation and the user want it ---

function doorbellWanted() {
  if (badge.dataset.doorbell !== "on") return false;
  try {
    return localStorage.getItem(STORAGE_KEY) === "on";
  } catch (error) {
    return false;
  }
}

function audioContext() {
  if (!audio) {
    const AudioContextClass = window.AudioContext || window.webkitAudioContext;
    if (!AudioContextClass) return null;
    audio = new AudioContextClass();
  }
  if (audio.state === "suspended") audio.resume().catch(() => {}); // allowed once the user has clicked
  return audio;
}

export function chime() {
  const context = audioContext();
  if (!context) return false;
  const start = context.currentTime + 0.05;
  [[880, 0], [660, 0.3]].forEach(([frequency, offset]) => {
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.3, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.7);
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(start + offset);
    oscillator.stop(start + offset + 0.75);
  });
  badge.dataset.chimes = String(Number(badge.dataset.chimes || 0) + 1);
  return true;
}

function arrived() {
  const status = document.querySelector("[data-waiting-arrival]");
  if (status) {
    status.textContent = "";
    setTimeout(() => { status.textContent = status.dataset.text; }, 50); // read again on every arrival
  }
  if (doorbellWanted()) chime();
}

function setUpToggle() {
  const toggle = document.querySelector("[data-doorbell-toggle]");
  if (!toggle || badge.dataset.doorbell !== "on") return;
  toggle.checked = doorbellWanted();
  toggle.addEventListener("change", () => {
    try {
      localStorage.setItem(STORAGE_KEY, toggle.checked ? "on" : "off");
    } catch (error) {
      // storage refused (private mode): the choice lasts for this page only
    }
    if (toggle.checked) chime(); // this click is the gesture browsers want before sound; and it shows the sound
  });
  // Browsers start sound only after a gesture on the page: the first click or key press unlocks it.
  const unlock = () => { if (doorbellWanted()) audioContext(); };
  document.addEventListener("pointerdown", unlock, { once: true });
  document.addEventListener("keydown", unlock, { once: true });
}

// --- the socket ---

if (badge) {
  fetchCount = countFetcher(badge.dataset.countUrl, "count");
  setUpToggle();
  changeSocket(badge.dataset.socketPath, {
    onOpen: () => {
      refreshCount();
      emit("waiting:changed"); // catch up on what happened while disconnected
    },
    onChanged: () => {
      refreshCount();
      emit("waiting:changed");
    },
    onState: setConnection,
    maxBackoffMs: 15000,
  });
}
