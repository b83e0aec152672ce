// Signature pad for the approvals signature page: draw with mouse, pen or finger; the PNG goes
// into a hidden field on submit. No inline scripts (CSP).
(function () {
  "use strict";
  function init() {
    var canvas = document.querySelector("[data-signature-pad]");
    var form = document.getElementById("sigform");
    var field = document.getElementById("sigdata");
    if (!canvas || !form || !field) { return; }
    var ctx = canvas.getContext("2d");
    var drawing = false;
    var dirty = false;
    ctx.lineWidth = 3;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#111";
    function pos(ev) {
      var r = canvas.getBoundingClientRect();
      return { x: (ev.clientX - r.left) * canvas.width / r.width, y: (ev.clientY - r.top) * canvas.height / r.height };
    }
    canvas.addEventListener("pointerdown", function (ev) {
      drawing = true;
      canvas.setPointerCapture(ev.pointerId);
      var p = pos(ev);
      ctx.beginPath();
      ctx.moveTo(p.x, p.y);
      ev.preventDefault();
    });
    canvas.addEventListener("pointermove", function (ev) {
      if (!drawing) { return; }
      var p = pos(ev);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      dirty = true;
      ev.preventDefault();
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
      canvas.addEventListener(name, function () { drawing = false; });
    });
    var clear = document.querySelector("[data-signature-clear]");
    if (clear) {
      clear.addEventListener("click", function () {
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        dirty = false;
      });
    }
    form.addEventListener("submit", function (ev) {
      if (!dirty) { ev.preventDefault(); return; }
      field.value = canvas.toDataURL("image/png");
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
