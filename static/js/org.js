// Organisation tree: a level is fetched when it is first opened (the page never holds the whole
// province), then shown and hidden in place.
(function () {
  function sublist(li) {
    for (var i = 0; i < li.children.length; i++) {
      if (li.children[i].tagName === "UL") return li.children[i];
    }
    return null;
  }
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest(".org-toggle");
    if (!btn) return;
    var li = btn.closest("li");
    var ul = sublist(li);
    if (btn.getAttribute("aria-expanded") === "true") {
      btn.setAttribute("aria-expanded", "false");
      if (ul) ul.hidden = true;
      return;
    }
    btn.setAttribute("aria-expanded", "true");
    if (ul) { ul.hidden = false; return; }
    btn.classList.add("loading");
    fetch(btn.getAttribute("data-children"), {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        var box = document.createElement("div");
        box.innerHTML = html;
        var got = box.querySelector("ul");
        if (got) li.appendChild(got);
      })
      .catch(function () { btn.setAttribute("aria-expanded", "false"); })
      .then(function () { btn.classList.remove("loading"); });
  });
})();
