// Small progressive enhancements shared by every page; everything works without them.
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field.matches("select[data-autosubmit]") && field.form) field.form.requestSubmit();
});
