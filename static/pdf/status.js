// Polls the render status of a PDF and swaps in the download link when it is ready.
(function () {
  var box = document.querySelector(".pdf-status");
  if (!box) return;
  var state = box.querySelector(".pdf-state");
  var delay = 500;
  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.status === "done") {
          var a = document.createElement("a");
          a.href = s.download; a.textContent = "⬇ " + s.filename + " (" + s.pages + ")";
          state.replaceChildren(a);
          var miss = box.querySelector(".pdf-missing");
          if (miss && s.missing_glyphs_text) {
            miss.querySelector(".chars").textContent = s.missing_glyphs_text;
            miss.hidden = false;
          }
        } else if (s.status === "failed") {
          state.textContent = "✗ " + (s.error || "failed");
        } else {
          state.textContent = "… " + s.status;
          delay = Math.min(delay * 1.5, 5000);
          setTimeout(poll, delay);
        }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  if (state.querySelector("a") === null) poll();
})();
