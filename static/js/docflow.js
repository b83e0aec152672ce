// Document flow: show the numbering levels the body editor recognises (一、 （一） 1. （1）).
(function () {
  var LEVELS = [[/^[一二三四五六七八九十]+、/, 1], [/^（[一二三四五六七八九十]+）/, 2], [/^\d+[.．]/, 3], [/^（\d+）/, 4]];
  function summary(text) {
    var counts = [0, 0, 0, 0, 0];
    text.split(/\n/).forEach(function (line) {
      line = line.trim();
      for (var i = 0; i < LEVELS.length; i++) {
        if (LEVELS[i][0].test(line)) { counts[LEVELS[i][1]]++; return; }
      }
    });
    return counts;
  }
  document.addEventListener("input", function (ev) {
    if (!ev.target.matches("[data-docflow-body]")) return;
    var out = document.querySelector("[data-docflow-levels]");
    if (!out) return;
    var c = summary(ev.target.value);
    out.textContent = (out.dataset.label || "") + "一、×" + c[1] + "  （一）×" + c[2] + "  1.×" + c[3] + "  （1）×" + c[4];
  });
})();
