// What the portal's live counters share (waiting-badge.js, chat/unread-badge.js): asking a JSON endpoint for
// the newest count, and a socket that says "something changed" and reconnects by itself.

// A function that asks `url` for its JSON and returns `body[field]`, or null when offline, refused, not JSON or
// overtaken: when calls overlap, only the newest one's answer counts (an older answer may arrive later).
export function countFetcher(url, field) {
  let asked = 0;
  return async function fetchCount() {
    const mine = ++asked;
    let next;
    try {
      const response = await fetch(url, {
        credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" },
      });
      if (!response.ok || !(response.headers.get("content-type") || "").includes("json")) return null;
      next = (await response.json())[field];
    } catch (error) {
      return null; // offline: the next event or round asks again
    }
    return mine === asked && Number.isInteger(next) ? next : null;
  };
}

// Opens the socket at `path` and keeps it open: after a drop it reconnects with growing pauses (1 s, 2 s, 4 s …
// up to maxBackoffMs, with jitter so a server restart is not met by every browser at once). A close with 4401
// (signed out) or 4403 (not allowed) is final. Callbacks: onOpen(), onChanged() for each {"type": "changed"},
// onState("live" | "reconnecting" | "closed").
export function changeSocket(path, { onOpen, onChanged, onState, maxBackoffMs = 30000 }) {
  let retries = 0;
  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}${path}`);
    socket.addEventListener("open", () => {
      retries = 0;
      onState("live");
      onOpen();
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (message.type === "changed") onChanged();
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4401 || event.code === 4403) {
        onState("closed");
        return;
      }
      onState("reconnecting");
      retries += 1;
      setTimeout(connect, Math.min(1000 * 2 ** retries, maxBackoffMs) + Math.random() * 500);
    });
  }
  connect();
}
