// The pay page's amounts follow the chosen country and client type; the confirming page waits for the
// payment to be confirmed. Both pages work without this (an "Update the amount" button, a meta refresh).

const form = document.querySelector("[data-pay-form]");
if (form) {
  const summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();
  const amounts = document.getElementById("amounts");
  const recompute = form.querySelector("[data-recompute]");
  if (recompute) recompute.hidden = true;
  let latest = 0;
  const update = async () => {
    const asked = ++latest;
    const data = new FormData(form);
    const query = new URLSearchParams({ partial: "amounts" });
    for (const key of ["country", "client_type", "vat_number"]) query.set(key, data.get(key) || "");
    try {
      const response = await fetch(`${form.dataset.amountsUrl}?${query}`, { credentials: "same-origin" });
      // A redirect means there is nothing to pay any more: the next full page load shows why.
      if (asked === latest && response.ok && !response.redirected) amounts.innerHTML = await response.text();
    } catch {
      // Offline for a moment: the amount is computed again on the server when paying.
    }
  };
  let timer;
  form.addEventListener("change", (event) => {
    if (["country", "client_type", "vat_number"].includes(event.target.name)) update();
  });
  form.addEventListener("input", (event) => {
    if (event.target.name !== "vat_number") return;
    clearTimeout(timer);
    timer = setTimeout(update, 400);
  });
}

const box = document.querySelector("[data-confirming]");
if (box && ["open", "slow"].includes(box.dataset.state)) {
  const every = Number(box.dataset.pollMs) || 2000;
  const show = (state) => {
    box.dataset.state = state;
    box.querySelectorAll("[data-show]").forEach((element) => {
      element.hidden = !element.dataset.show.split(" ").includes(state);
    });
    box.querySelector("[data-progress]").hidden = !["open", "slow", "paid"].includes(state);
  };
  const poll = async () => {
    try {
      const response = await fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.ok) {
        const answer = await response.json();
        if (answer.state !== box.dataset.state) show(answer.state);
        if (answer.next) {
          window.location.assign(answer.next);
          return;
        }
        if (answer.state === "failed" || answer.state === "expired") return;
      } else if (response.status === 403) {
        return;
      }
    } catch {
      // A moment without network: try again.
    }
    setTimeout(poll, every);
  };
  setTimeout(poll, every);
}
