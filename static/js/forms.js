// Reporting forms: mark fields whose value differs from the prefilled one (no inline script: CSP).
(function () {
  "use strict";
  var form = document.getElementById("fill-form");
  if (!form) { return; }
  form.addEventListener("input", function (ev) {
    var el = ev.target;
    if (!el.hasAttribute || !el.hasAttribute("data-prefill")) { return; }
    el.classList.toggle("changed", el.value !== el.getAttribute("data-prefill"));
  });
})();
