// The patient's waiting room: stays connected (heartbeats, reconnects by itself) and shows the state.
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
    if (message.type === "called") show("called");
    if (message.type === "announcements") showAnnouncements(message.items);
  });
  socket.addEventListener("close", (event) => {
    clearInterval(heartbeat);
    room.dataset.socket = "closed";
    if (event.code === 4401 || event.code === 4403) { closedForGood = true; show("closed"); return; }
    if (closedForGood) return;
    show("reconnecting");
    retries += 1;
    setTimeout(connect, Math.min(1000 * 2 ** retries, 15000));
  });
}

if (room) connect();
