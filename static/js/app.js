// Small progressive enhancements shared by every page; everything works without them.
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field.matches("select[data-autosubmit]") && field.form) field.form.requestSubmit();
});

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
