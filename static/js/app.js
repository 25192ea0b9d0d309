// Small progressive enhancements shared by every page; everything works without them.
// (Selects do not submit on change: keyboard users move through options with the arrow keys.)

// A free slot button fills the appointment form's time field.
document.addEventListener("click", (event) => {
  const slot = event.target.closest("[data-fill-time]");
  if (!slot) return;
  const field = document.getElementById("id_time");
  if (field) {
    field.value = slot.dataset.fillTime;
    document.querySelectorAll("[data-fill-time]").forEach((b) => b.setAttribute("aria-pressed", String(b === slot)));
    field.focus();
  }
});
