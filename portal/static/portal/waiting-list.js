// The staff waiting room: the list is fetched again whenever the page's staff socket says something changed.
// The socket is the navigation badge's (waiting-badge.js, one per page); this listens to its events.
const list = document.querySelector("[data-waiting-list]");
const status = document.querySelector("[data-connection]");
let loading = false, again = false;

async function refresh() {
  if (loading) { again = true; return; } // one request at a time; the last change is always fetched
  loading = true;
  try {
    const response = await fetch(list.dataset.listUrl, { headers: { "HX-Request": "true" }, credentials: "same-origin" });
    if (response.ok) list.innerHTML = await response.text();
  } catch (error) {
    // offline: the socket reconnects and says "changed" again
  } finally {
    loading = false;
    if (again) { again = false; refresh(); }
  }
}

function showConnection(state) {
  const labels = { live: list.dataset.labelConnected, reconnecting: list.dataset.labelReconnecting };
  status.textContent = labels[state] || "";
}

if (list) {
  document.addEventListener("waiting:changed", refresh);
  document.addEventListener("waiting:connection", (event) => showConnection(event.detail.state));
  showConnection(document.documentElement.dataset.waitingSocket);
}
