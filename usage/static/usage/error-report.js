// Client-side error reports (issue #10): JavaScript errors and WebRTC failures from the room and the waiting
// room go to the organisation's usage report. A classic script, loaded before the page's modules, so its
// listeners see their errors too. Configured by its own tag:
//   <script src="…/error-report.js" data-error-report data-endpoint="/usage/client-errors/"
//           data-source="room|waiting_room" data-csrf-token="…" nonce="…"></script>
// Pages call window.OpenConsultErrors.report(kind, message, detail) for what the browser does not throw
// (ICE failed, camera refused). Reporting never gets in the way: every failure here is swallowed.
(function () {
  "use strict";
  const tag = document.currentScript || document.querySelector("script[data-error-report]");
  if (!tag || window.OpenConsultErrors) return;
  const endpoint = tag.dataset.endpoint;
  const source = tag.dataset.source;
  const token = tag.dataset.csrfToken || "";
  const MAX_PER_PAGE = 10; // the server allows 20 per session in 10 minutes: a reload or two
  const sent = new Set();
  let count = 0;

  function cut(value, length) {
    return String(value ?? "").slice(0, length);
  }

  function report(kind, message, detail) {
    try {
      if (!endpoint || count >= MAX_PER_PAGE) return false;
      const body = { kind, source, message: cut(message, 500), detail: cut(detail, 1000) };
      const key = JSON.stringify(body);
      if (sent.has(key)) return false; // the same error again (a loop, a retry): once per page is enough
      sent.add(key);
      count += 1;
      // keepalive: the report still goes out when the error ends the page (a reload, leaving the room).
      fetch(endpoint, {
        method: "POST", body: key, keepalive: true, credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      }).catch(() => {});
      return true;
    } catch {
      return false;
    }
  }

  function stackLines(error, lines = 5) {
    return typeof error?.stack === "string" ? error.stack.split("\n").slice(0, lines).join("\n") : "";
  }

  window.addEventListener("error", (event) => {
    // A resource that failed to load (an <img>, a <video>) is no script error; only ErrorEvents count.
    if (!(event instanceof ErrorEvent)) return;
    const where = event.filename ? `${event.filename}:${event.lineno}:${event.colno}` : "";
    report("js_error", event.message || String(event.error), [where, stackLines(event.error)].filter(Boolean).join("\n"));
  });

  window.addEventListener("unhandledrejection", (event) => {
    const reason = event.reason;
    const message = reason instanceof Error ? `${reason.name}: ${reason.message}` : `Unhandled rejection: ${cut(reason, 200)}`;
    report("js_error", message, stackLines(reason));
  });

  // getUserMedia's failures by DOMException name: refused by the person (or the browser's policy), or no
  // usable device. Anything else (an AbortError, a TypeError) is not reported: it is not the person's setup.
  function mediaKind(name) {
    if (["NotAllowedError", "SecurityError", "PermissionDeniedError"].includes(name)) return "permission_denied";
    if (["NotFoundError", "NotReadableError", "OverconstrainedError", "DevicesNotFoundError", "TrackStartError"].includes(name)) return "device_error";
    return null;
  }

  function reportMedia(errorName, detail) {
    const kind = mediaKind(errorName);
    return kind ? report(kind, errorName, detail) : false;
  }

  window.OpenConsultErrors = { report, reportMedia, mediaKind };
})();
