// One chat panel component for every conversation page (staff portal, patient portal, waiting-room link,
// public widget). Markup: chat/templates/chat/_panel.html. Messages are plain text: they are put in the page
// with textContent, and only http(s):// and www. addresses become <a> elements built with the DOM — never
// innerHTML, so a message can never become markup.
//
// Live over /ws/chat/<id>/ (chat/consumers.py). While the socket is down the panel still works: it sends by
// fetch POST to the form's action and asks updates_url?after=<newest id> every 5 seconds, and reconnects
// with a growing delay. Without JavaScript the form posts and the page comes back.

const POLL_MS = 5000;
const MAX_BACKOFF_MS = 30000;
const SEND_TIMEOUT_MS = 10000;
// The same rule as chat/templatetags/chat_text.py: an address up to whitespace, not ending in punctuation.
const LINK_PATTERN = /\b(?:https?:\/\/|www\.)[^\s<>"']+[^\s<>"'.,;:!?)\]]/gi;
const FORMAT_CHARACTER = /\p{Cf}/u;

// The same rule as chat_text.py `linkable`: only an address that shows where it goes becomes a link. Not with
// userinfo, "@" before the host (www.bank.com@evil.test goes to evil.test), and not with invisible format
// characters (Unicode category Cf: U+202E turns the shown text around). Such text stays plain.
export function linkable(address) {
  if (FORMAT_CHARACTER.test(address)) return false;
  const authority = address.replace(/^https?:\/\//i, "").split(/[/?#\\]/, 1)[0];
  return !authority.includes("@");
}

export function linkified(text) {
  // Text nodes and <a> elements only.
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of String(text).matchAll(LINK_PATTERN)) {
    const address = match[0];
    if (!linkable(address)) continue; // stays in the plain run
    fragment.append(document.createTextNode(text.slice(last, match.index)));
    const link = document.createElement("a");
    link.href = /^https?:\/\//i.test(address) ? address : `https://${address}`;
    link.textContent = address;
    link.target = "_blank";
    link.rel = "noopener noreferrer nofollow";
    fragment.append(link);
    last = match.index + address.length;
  }
  fragment.append(document.createTextNode(text.slice(last)));
  return fragment;
}

class ChatPanel {
  constructor(root) {
    this.root = root;
    this.list = root.querySelector("[data-chat-messages]");
    this.form = root.querySelector("[data-chat-form]");
    this.field = this.form?.elements.text || null;
    this.errorBox = root.querySelector("[data-chat-error]");
    this.sendingBox = root.querySelector("[data-chat-sending]");
    this.connectionBox = root.querySelector("[data-chat-connection]");
    this.closedBox = root.querySelector("[data-chat-closed]");
    this.emptyBox = root.querySelector("[data-chat-empty]");
    this.afterId = Number(root.dataset.afterId) || 0;
    this.seen = new Set([...this.list.querySelectorAll("[data-id]")].map((item) => Number(item.dataset.id)));
    this.socket = null;
    this.live = false;
    this.retries = 0;
    this.pollTimer = null;
    this.pending = null; // {text, timer} while a socket send waits for its echo
    this.stopped = false; // the server said this viewer may not be here (4401/4403): no reconnecting
    // The viewer may not write (access revoked, chat closed): nothing new can be asked for by polling, and "no
    // live connection" would contradict the notice that says why the chat stopped. A page without a form that
    // shows a reason starts so.
    this.accessClosed = !this.form && Boolean(this.closedBox && !this.closedBox.hidden);
    this.scrollToEnd();
    this.setUpForm();
    if (root.dataset.wsPath) this.connect();
    else this.startPolling();
  }

  // --- showing messages ---

  scrollToEnd() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  nearEnd() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80;
  }

  add(message) {
    if (!message || !Number.isInteger(message.id) || this.seen.has(message.id)) return;
    this.seen.add(message.id);
    this.afterId = Math.max(this.afterId, message.id);
    this.root.dataset.afterId = String(this.afterId);
    const follow = this.nearEnd() || message.mine;
    const item = document.createElement("li");
    item.className = `chat-message chat-from-${String(message.author).replace(/[^a-z]/g, "")}`;
    if (message.mine) item.classList.add("is-mine");
    item.dataset.id = String(message.id);
    const meta = document.createElement("p");
    meta.className = "chat-meta";
    const sender = document.createElement("span");
    sender.className = "chat-sender";
    sender.textContent = message.mine ? this.root.dataset.labelYou : message.sender;
    const time = document.createElement("time");
    time.dateTime = message.at;
    time.textContent = message.time;
    meta.append(sender, " ", time);
    const body = document.createElement("p");
    body.className = "chat-text";
    body.append(linkified(message.text));
    item.append(meta, body);
    // Keep the list in id order (a poll and the socket may race).
    const later = [...this.list.children].find((other) => Number(other.dataset.id) > message.id);
    this.list.insertBefore(item, later || null);
    if (this.emptyBox) this.emptyBox.hidden = true;
    if (follow) this.scrollToEnd();
    if (message.mine && this.pending && this.pending.timer) this.sent(true); // the echo of our socket send
    if (!message.mine) this.markRead();
  }

  clear() {
    // The history was deleted (by staff, or when a consult ended): what is shown goes too.
    this.list.replaceChildren();
    this.seen.clear();
    if (this.emptyBox) this.emptyBox.hidden = false;
  }

  markRead() {
    // The updates URL marks read itself; over the socket the server is told when the page is being looked at.
    if (!this.live || document.visibilityState !== "visible") return;
    clearTimeout(this.readTimer);
    this.readTimer = setTimeout(() => this.socketSend({ type: "read" }), 500);
  }

  setAccess(open, reason) {
    const wasClosed = this.accessClosed;
    this.accessClosed = !open;
    if (!open) {
      this.stopPolling();
      this.showConnection("");
    } else if (wasClosed && !this.live) {
      // Open again while the socket is away: say so and poll, as before it closed.
      this.showConnection(this.root.dataset.textOffline);
      this.startPolling();
    }
    if (!this.closedBox) return;
    if (open) {
      // The form comes only from the server: a page that had none says to reload (never reloads by itself).
      this.closedBox.textContent = this.form ? "" : this.root.dataset.textReopened || "";
      this.closedBox.hidden = !this.closedBox.textContent;
      this.setFormEnabled(true);
      return;
    }
    this.closedBox.textContent = reason || "";
    this.closedBox.hidden = !reason;
    this.setFormEnabled(false);
  }

  setFormEnabled(enabled) {
    if (!this.form) return;
    this.form.hidden = !enabled;
    for (const element of this.form.elements) element.disabled = !enabled;
  }

  showError(text) {
    if (!this.errorBox) return;
    this.errorBox.textContent = text || "";
    this.errorBox.hidden = !text;
    if (this.field) this.field.setAttribute("aria-invalid", text ? "true" : "false");
  }

  showConnection(text) {
    if (!this.connectionBox) return;
    this.connectionBox.textContent = text || "";
    this.connectionBox.hidden = !text;
  }

  // --- writing ---

  setUpForm() {
    if (!this.form || !this.field) return;
    const hint = this.root.querySelector("[data-chat-hint]");
    if (hint) hint.hidden = false;
    this.field.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.form.requestSubmit();
      }
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
  }

  send() {
    const text = this.field.value;
    if (!text.trim() || this.pending) {
      this.field.focus();
      return;
    }
    this.showError("");
    this.pending = { text };
    this.sendingBox.textContent = this.root.dataset.textSending;
    if (this.live) {
      this.pending.timer = setTimeout(() => this.sent(false, this.root.dataset.textFailed), SEND_TIMEOUT_MS);
      this.socketSend({ type: "send", text });
    } else {
      this.post(text);
    }
    this.field.focus();
  }

  sent(ok, error) {
    if (!this.pending) return;
    clearTimeout(this.pending.timer);
    if (ok && this.field.value === this.pending.text) this.field.value = "";
    this.pending = null;
    this.sendingBox.textContent = "";
    this.showError(ok ? "" : error);
    this.field.focus();
  }

  async post(text) {
    const body = new FormData(this.form);
    body.set("text", text);
    let response;
    let data = null;
    try {
      response = await fetch(this.form.action, {
        method: "POST", body, credentials: "same-origin", cache: "no-store",
        headers: { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" },
      });
      if ((response.headers.get("content-type") || "").includes("json")) data = await response.json();
    } catch (error) {
      this.sent(false, this.root.dataset.textFailed);
      return;
    }
    if (response.ok && data && data.message) {
      this.sent(true);
      this.add(data.message);
      return;
    }
    this.sent(false, errorText(data) || this.root.dataset.textFailed);
  }

  // --- the socket ---

  socketSend(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    let socket;
    try {
      socket = new WebSocket(`${scheme}://${window.location.host}${this.root.dataset.wsPath}`);
    } catch (error) {
      this.down();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (this.root.dataset.visitorToken) socket.send(JSON.stringify({ type: "hello", token: this.root.dataset.visitorToken }));
      this.live = true;
      this.retries = 0;
      this.stopPolling();
      this.showConnection("");
      this.root.dataset.chatSocket = "live";
      this.poll(); // what arrived while the socket was down
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      this.receive(message);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.live = false;
      if (this.pending && this.pending.timer) {
        // Sent or not, unknown: the next poll shows it if it arrived; the text stays in the field.
        this.sent(false, this.root.dataset.textFailed);
      }
      if (event.code === 4401 || event.code === 4403) this.stopped = true;
      this.down();
    });
  }

  receive(message) {
    if (message.type === "message") this.add(message.message);
    else if (message.type === "access") {
      if (message.empty) this.clear();
      this.setAccess(Boolean(message.open), message.reason);
    }
    else if (message.type === "error") this.sent(false, message.message);
  }

  down() {
    this.root.dataset.chatSocket = this.stopped ? "closed" : "reconnecting";
    if (!this.accessClosed) {
      this.showConnection(this.root.dataset.textOffline);
      this.startPolling();
    }
    if (this.stopped || !this.root.dataset.wsPath) return;
    this.retries += 1;
    const delay = Math.min(1000 * 2 ** this.retries, MAX_BACKOFF_MS) + Math.random() * 500;
    setTimeout(() => this.connect(), delay);
  }

  // --- polling (while the socket is down) ---

  startPolling() {
    if (this.pollTimer || this.accessClosed || !this.root.dataset.updatesUrl) return;
    this.pollTimer = setInterval(() => this.poll(), POLL_MS);
    this.poll(); // at once: the socket may have missed something before it went down
  }

  stopPolling() {
    clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  async poll() {
    const base = this.root.dataset.updatesUrl;
    if (!base || this.polling) return;
    this.polling = true;
    try {
      const url = new URL(base, window.location.href);
      url.searchParams.set("after", String(this.afterId));
      const response = await fetch(url, {
        credentials: "same-origin", cache: "no-store",
        headers: { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" },
      });
      if (!response.ok || !(response.headers.get("content-type") || "").includes("json")) return;
      const data = await response.json();
      const messages = Array.isArray(data) ? data : data.messages || [];
      messages.forEach((message) => this.add(message));
      if (!Array.isArray(data) && typeof data.open === "boolean") this.setAccess(data.open, data.reason);
    } catch (error) {
      // offline: the next round asks again
    } finally {
      this.polling = false;
    }
  }
}

function errorText(data) {
  if (!data) return "";
  if (typeof data.error === "string") return data.error;
  if (Array.isArray(data.errors)) return data.errors.join(" ");
  if (data.errors && typeof data.errors === "object") return Object.values(data.errors).flat().join(" ");
  return "";
}

export function start(root = document) {
  root.querySelectorAll("[data-chat]").forEach((element) => {
    if (element.chatPanel) return; // one component per panel, however often the script is included
    element.chatPanel = new ChatPanel(element);
  });
}

start();
