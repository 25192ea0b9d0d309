// The patient portal's small enhancements; every page works without them.
(() => {
  // An error summary takes the focus, so screen readers and keyboards start where the problem is.
  const summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();

  // The installable app: the service worker keeps only the shell (see /patient/sw.js).
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("/patient/sw.js", { scope: "/patient/" }).catch(() => {});
  }

  // Questionnaires: the current step is saved as the patient types (debounced); pictures are sent with the buttons.
  const form = document.querySelector("form[data-autosave-url]");
  if (!form) return;
  const status = form.querySelector("[data-autosave-status]");
  const url = form.dataset.autosaveUrl;
  let timer = null;

  function save() {
    timer = null;
    form.dataset.autosaveState = "saving";
    const data = new FormData(form);
    for (const input of form.querySelectorAll("input[type=file]")) data.delete(input.name);
    data.delete("action");
    fetch(url, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRFToken": data.get("csrfmiddlewaretoken"), "X-Autosave": "1" },
    }).then((response) => response.ok ? response.json() : null).then((result) => {
      const saved = Boolean(result && result.saved);
      if (saved && status) status.textContent = `${status.dataset.savedText} ${result.at}`;
      form.dataset.autosaveState = timer ? "waiting" : (saved ? "saved" : "failed");
    }).catch(() => { form.dataset.autosaveState = "failed"; });
  }

  function schedule() {
    if (timer) clearTimeout(timer);
    form.dataset.autosaveState = "waiting";
    timer = setTimeout(save, 800);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  // Leaving the page: send what is waiting at once.
  window.addEventListener("pagehide", () => {
    if (!timer) return;
    clearTimeout(timer);
    timer = null;
    const data = new FormData(form);
    for (const input of form.querySelectorAll("input[type=file]")) data.delete(input.name);
    data.delete("action");
    fetch(url, { method: "POST", body: data, credentials: "same-origin", keepalive: true,
                 headers: { "X-CSRFToken": data.get("csrfmiddlewaretoken"), "X-Autosave": "1" } }).catch(() => {});
  });
  form.addEventListener("submit", () => { if (timer) { clearTimeout(timer); timer = null; } });
  form.dataset.autosaveState = "idle";
})();
