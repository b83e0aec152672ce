// Small progressive enhancements; every page works without script.
document.addEventListener("click", function (ev) {
  var btn = ev.target.closest("[data-toggle]");
  if (!btn) return;
  var el = document.getElementById(btn.getAttribute("data-toggle"));
  if (!el) return;
  var open = el.classList.toggle("open");
  btn.setAttribute("aria-expanded", open ? "true" : "false");
});
