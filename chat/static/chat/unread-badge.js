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

import { changeSocket, countFetcher } from "../portal/live-count.js";

const POLL_MS = 30000;
const badges = [...document.querySelectorAll("[data-chat-unread]")];
let count = null;
let pollTimer = null;
let fetchCount = null;

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
  const next = await fetchCount();
  if (next === null) return;
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

if (badges.length && badges[0].dataset.countUrl) {
  fetchCount = countFetcher(badges[0].dataset.countUrl, "total");
  const path = badges.map((badge) => badge.dataset.socketPath).find(Boolean);
  if (path) {
    changeSocket(path, {
      onOpen: () => {
        stopPolling();
        refresh(); // catch up on what changed while disconnected
      },
      onChanged: () => {
        refresh();
        document.dispatchEvent(new CustomEvent("chat:changed"));
      },
      onState: (state) => {
        document.documentElement.dataset.chatInbox = state;
        if (state !== "live") startPolling(); // signed out or not allowed: polling only
      },
    });
  } else {
    startPolling();
  }
}
