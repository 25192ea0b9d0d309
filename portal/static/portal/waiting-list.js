// The staff waiting room: the server says "changed" over the socket; the list is fetched again.
const list = document.querySelector("[data-waiting-list]");
const status = document.querySelector("[data-connection]");
let retries = 0;

async function refresh() {
  const response = await fetch(list.dataset.listUrl, { headers: { "HX-Request": "true" }, credentials: "same-origin" });
  if (response.ok) list.innerHTML = await response.text();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${list.dataset.socketPath}`);
  socket.addEventListener("open", () => { retries = 0; status.textContent = list.dataset.labelConnected; refresh(); });
  socket.addEventListener("message", (event) => { if (JSON.parse(event.data).type === "changed") refresh(); });
  socket.addEventListener("close", (event) => {
    if (event.code === 4401 || event.code === 4403) return;
    status.textContent = list.dataset.labelReconnecting;
    retries += 1;
    setTimeout(connect, Math.min(1000 * 2 ** retries, 15000));
  });
}

if (list) connect();
