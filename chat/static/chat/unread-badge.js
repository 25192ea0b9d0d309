// Unread chat counts in the top bar and the left menu (staff portal; the patient portal polls only).
//
// Markup (any number of badges on a page, one socket and one request for all of them):
//   <span data-chat-unread data-count-url="/portal/messages/unread/" data-socket-path="/ws/chat/inbox/"
//         [hidden]> … <span data-chat-unread-count>3</span></span>
// The count URL answers {"total": n}. The inbox socket (staff only) says {"type": "changed"} whenever a
// conversation of the organisation changed; the page then asks the count URL, so no message data and
// nothing of a channel the member may not see ever crosses the socket. Without a socket path, or while the
// socket is down, the count is asked every 30 seconds.
// Other scripts (the messages list) may listen to "chat:changed" on `document`.
// An optional <span data-chat-unread-status data-text="New message"> (role="status") is filled when the count
// grows, so screen readers hear about new messages politely.

const POLL_MS = 30000;
const MAX_BACKOFF_MS = 30000;
const badges = [...document.querySelectorAll("[data-chat-unread]")];
let retries = 0;
let count = null;
let asked = 0;
let pollTimer = null;

function show(next) {
  badges.forEach((badge) => {
    badge.dataset.count = String(next);
    badge.querySelectorAll("[data-chat-unread-count]").forEach((element) => { element.textContent = String(next); });
    badge.hidden = next === 0;
  });
}

function announce() {
  const status = document.querySelector("[data-chat-unread-status]");
  if (!status) return;
  status.textContent = "";
  setTimeout(() => { status.textContent = status.dataset.text || ""; }, 50);
}

async function refresh() {
  const mine = ++asked;
  let next;
  try {
    const response = await fetch(badges[0].dataset.countUrl, {
      credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" },
    });
    if (!response.ok || !(response.headers.get("content-type") || "").includes("json")) return;
    next = (await response.json()).total;
  } catch (error) {
    return; // offline: the next event or round asks again
  }
  if (mine !== asked || !Number.isInteger(next)) return;
  if (count !== null && next > count) announce();
  count = next;
  show(next);
}

function startPolling() {
  if (!pollTimer) pollTimer = setInterval(refresh, POLL_MS);
}

function stopPolling() {
  clearInterval(pollTimer);
  pollTimer = null;
}

function connect(path) {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${window.location.host}${path}`);
  socket.addEventListener("open", () => {
    retries = 0;
    stopPolling();
    document.documentElement.dataset.chatInbox = "live";
    refresh(); // catch up on what changed while disconnected
  });
  socket.addEventListener("message", (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (message.type === "changed") {
      refresh();
      document.dispatchEvent(new CustomEvent("chat:changed"));
    }
  });
  socket.addEventListener("close", (event) => {
    startPolling();
    if (event.code === 4401 || event.code === 4403) { // signed out or not allowed: polling only
      document.documentElement.dataset.chatInbox = "closed";
      return;
    }
    document.documentElement.dataset.chatInbox = "reconnecting";
    retries += 1;
    setTimeout(() => connect(path), Math.min(1000 * 2 ** retries, MAX_BACKOFF_MS) + Math.random() * 500);
  });
}

if (badges.length && badges[0].dataset.countUrl) {
  const path = badges.map((badge) => badge.dataset.socketPath).find(Boolean);
  if (path) connect(path);
  else startPolling();
}
