// The picker: people and units are picked, not typed. Enhances an <input> or <select> marked
// data-picker="person|unit" data-purpose="..." [data-context] [data-multiple]: an ARIA combobox
// (type to search, arrows / Enter / Escape, Backspace removes the last chip), chips for the
// choices, recent choices on focus, and a browse panel over the tree of government. The form still
// posts the same field: an input gets the values comma separated, a select gets its options chosen.
(function () {
  "use strict";
  if (window.officePicker) return;
  var API = "/api/directory/";
  var seq = 0;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function get(path, params) {
    var qs = Object.keys(params).filter(function (k) { return params[k] !== "" && params[k] != null; })
      .map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]); }).join("&");
    return fetch(API + path + "?" + qs, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : {items: []}; })
      .catch(function () { return {items: []}; });
  }

  function Picker(field) {
    var self = this;
    this.field = field;
    this.id = "picker" + (++seq);
    this.multiple = field.hasAttribute("data-multiple") || field.multiple;
    this.purpose = field.getAttribute("data-purpose");
    this.text = JSON.parse(field.getAttribute("data-picker-text") || "{}");
    this.chosen = [];
    this.options = [];
    this.active = -1;
    this.timer = null;

    var box = this.box = el("div", "picker");
    box.setAttribute("data-picker-box", this.purpose);
    var row = el("div", "picker-row");
    this.chips = el("ul", "picker-chips");
    this.chips.setAttribute("aria-label", this.text.chosen || "");
    var input = this.input = el("input", "picker-input");
    input.type = "text";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", this.id + "-list");
    input.setAttribute("autocomplete", "off");
    input.placeholder = this.text.placeholder || "";
    var label = field.getAttribute("aria-label") || (field.labels && field.labels[0] ? field.labels[0].textContent.trim() : "");
    if (label) input.setAttribute("aria-label", label);
    if (field.id) { input.id = field.id; field.removeAttribute("id"); }
    var browse = this.browseButton = el("button", "picker-browse", this.text.browse || "…");
    browse.type = "button";
    browse.setAttribute("aria-expanded", "false");
    browse.setAttribute("aria-controls", this.id + "-tree");
    row.appendChild(this.chips);
    row.appendChild(input);
    row.appendChild(browse);
    this.list = el("ul", "picker-list");
    this.list.id = this.id + "-list";
    this.list.setAttribute("role", "listbox");
    if (this.multiple) this.list.setAttribute("aria-multiselectable", "true");
    this.list.hidden = true;
    this.tree = el("div", "picker-tree");
    this.tree.id = this.id + "-tree";
    this.tree.hidden = true;
    this.status = el("span", "picker-status");
    this.status.setAttribute("role", "status");
    box.appendChild(row);
    box.appendChild(this.list);
    box.appendChild(this.tree);
    box.appendChild(this.status);
    field.parentNode.insertBefore(box, field.nextSibling);
    if (field.tagName === "INPUT") {
      field.type = "hidden";
    } else {
      field.hidden = true;
      field.setAttribute("aria-hidden", "true");
      field.tabIndex = -1;
    }
    if (field.required) { field.required = false; input.required = false; this.required = true; }

    input.addEventListener("input", function () { self.schedule(); });
    input.addEventListener("focus", function () { if (!input.value) self.showRecent(); });
    input.addEventListener("keydown", function (e) { self.key(e); });
    input.addEventListener("blur", function () { setTimeout(function () { self.close(); }, 150); });
    browse.addEventListener("click", function () { self.toggleTree(); });
    this.list.addEventListener("mousedown", function (e) { e.preventDefault(); });
    var form = field.form;
    if (form) form.addEventListener("submit", function (e) {
      if (self.required && !self.chosen.length) { e.preventDefault(); input.focus(); self.say(self.text.required || ""); }
    });
    this.load();
  }

  Picker.prototype.ctx = function () {
    var from = this.field.getAttribute("data-context-from"), form = this.field.form;
    if (from && form && form.elements[from]) return form.elements[from].value;
    return this.field.getAttribute("data-context") || "";
  };

  Picker.prototype.initial = function () {
    var f = this.field;
    if (f.tagName === "SELECT") {
      return Array.prototype.filter.call(f.options, function (o) { return o.defaultSelected && o.value; })
        .map(function (o) { return o.value; });
    }
    return (f.value || "").split(/[,，]/).map(function (v) { return v.trim(); }).filter(Boolean);
  };

  Picker.prototype.load = function () {
    var self = this, values = this.initial();
    if (!values.length) { this.write(); return; }
    get("resolve", {purpose: this.purpose, context: this.ctx(), values: values.join(",")}).then(function (data) {
      (data.items || []).forEach(function (c) { self.add(c, true); });
      self.write();
    });
  };

  Picker.prototype.write = function () {
    var f = this.field, values = this.chosen.map(function (c) { return c.value; });
    if (f.tagName === "SELECT") {
      var have = {};
      Array.prototype.forEach.call(f.options, function (o) { o.selected = values.indexOf(o.value) >= 0; have[o.value] = 1; });
      this.chosen.forEach(function (c) {
        if (!have[c.value]) { var o = new Option(c.name, c.value, false, true); f.add(o); }
      });
    } else {
      f.value = values.join(",");
    }
    f.dispatchEvent(new Event("change", {bubbles: true}));
  };

  Picker.prototype.add = function (c, quiet) {
    if (this.chosen.some(function (x) { return x.value === c.value; })) return;
    if (!this.multiple) { this.chosen = []; this.chips.textContent = ""; }
    this.chosen.push(c);
    var self = this, li = el("li", "picker-chip");
    li.setAttribute("data-value", c.value);
    li.appendChild(el("span", "picker-chip-name", c.name));
    var x = el("button", "picker-chip-remove", "×");
    x.type = "button";
    x.setAttribute("aria-label", (this.text.remove || "Remove") + " " + c.name);
    x.addEventListener("click", function () { self.remove(c.value); self.input.focus(); });
    li.appendChild(x);
    this.chips.appendChild(li);
    if (!quiet) { this.write(); this.say((this.text.added || "") + " " + c.name); }
  };

  Picker.prototype.remove = function (value) {
    this.chosen = this.chosen.filter(function (c) { return c.value !== value; });
    Array.prototype.forEach.call(this.chips.querySelectorAll("li"), function (li) {
      if (li.getAttribute("data-value") === value) li.remove();
    });
    this.write();
  };

  Picker.prototype.say = function (text) { this.status.textContent = text; };

  Picker.prototype.schedule = function () {
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.search(); }, 200);
  };

  Picker.prototype.search = function () {
    var self = this, q = this.input.value.trim();
    if (!q) { this.showRecent(); return; }
    get("search", {purpose: this.purpose, context: this.ctx(), q: q}).then(function (data) {
      if (self.input.value.trim() !== q) return;
      self.show(data.items || [], "", self.text.none || "");
    });
  };

  Picker.prototype.showRecent = function () {
    var self = this;
    get("recent", {purpose: this.purpose, context: this.ctx()}).then(function (data) {
      if (self.input.value.trim() || document.activeElement !== self.input) return;
      if ((data.items || []).length) self.show(data.items, self.text.recent || "");
      else self.close();
    });
  };

  Picker.prototype.show = function (items, heading, empty) {
    var self = this;
    this.options = items;
    this.active = items.length ? 0 : -1;
    this.list.textContent = "";
    if (heading) {
      var h = el("li", "picker-heading", heading);
      h.setAttribute("role", "presentation");
      this.list.appendChild(h);
    }
    if (!items.length && empty) {
      var none = el("li", "picker-empty", empty);
      none.setAttribute("role", "presentation");
      this.list.appendChild(none);
    }
    items.forEach(function (c, i) {
      var li = el("li", "picker-option");
      li.id = self.id + "-opt" + i;
      li.setAttribute("role", "option");
      li.appendChild(el("span", "picker-option-name", c.name));
      if (c.detail) li.appendChild(el("span", "picker-option-detail", c.detail));
      li.addEventListener("click", function () { self.pick(i); });
      self.list.appendChild(li);
    });
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.highlight();
  };

  Picker.prototype.highlight = function () {
    var self = this;
    Array.prototype.forEach.call(this.list.querySelectorAll("[role=option]"), function (li, i) {
      li.setAttribute("aria-selected", i === self.active ? "true" : "false");
    });
    if (this.active >= 0) {
      var cur = document.getElementById(this.id + "-opt" + this.active);
      this.input.setAttribute("aria-activedescendant", cur.id);
      if (cur.scrollIntoView) cur.scrollIntoView({block: "nearest"});
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  };

  Picker.prototype.close = function () {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.active = -1;
  };

  Picker.prototype.pick = function (i) {
    var c = this.options[i];
    if (!c) return;
    this.add(c);
    this.input.value = "";
    this.close();
    this.input.focus();
  };

  Picker.prototype.key = function (e) {
    var open = !this.list.hidden && this.options.length;
    if (e.key === "ArrowDown") {
      e.preventDefault();
      if (!open) { this.input.value ? this.search() : this.showRecent(); return; }
      this.active = (this.active + 1) % this.options.length; this.highlight();
    } else if (e.key === "ArrowUp") {
      if (!open) return;
      e.preventDefault();
      this.active = (this.active - 1 + this.options.length) % this.options.length; this.highlight();
    } else if (e.key === "Enter") {
      if (open && this.active >= 0) { e.preventDefault(); this.pick(this.active); }
      else if (this.input.value.trim()) e.preventDefault();  // typed text that is not a choice is not posted
    } else if (e.key === "Escape") {
      if (!this.list.hidden || !this.tree.hidden) { e.preventDefault(); this.close(); this.closeTree(); }
    } else if (e.key === "Backspace" && !this.input.value && this.chosen.length) {
      var last = this.chosen[this.chosen.length - 1];
      this.remove(last.value);
      this.say((this.text.removed || "") + " " + last.name);
    }
  };

  // --- browsing the tree ------------------------------------------------------------------------

  Picker.prototype.toggleTree = function () {
    if (this.tree.hidden) this.openTree({}); else this.closeTree();
  };

  Picker.prototype.closeTree = function () {
    this.tree.hidden = true;
    this.browseButton.setAttribute("aria-expanded", "false");
  };

  Picker.prototype.openTree = function (where) {
    var self = this;
    this.close();
    get("browse", Object.assign({purpose: this.purpose, context: this.ctx()}, where)).then(function (data) {
      self.tree.textContent = "";
      self.tree.hidden = false;
      self.browseButton.setAttribute("aria-expanded", "true");
      var head = el("div", "picker-tree-head");
      var close = el("button", "picker-tree-close", "×");
      close.type = "button";
      close.setAttribute("aria-label", self.text.close || "Close");
      close.addEventListener("click", function () { self.closeTree(); self.input.focus(); });
      if (data.unit) {
        var back = el("button", "picker-tree-up", "‹ " + (self.text.back || ""));
        back.type = "button";
        back.addEventListener("click", function () { self.openTree(self.lastDivision || {}); });
        head.appendChild(back);
        head.appendChild(el("strong", "", data.unit.name));
      } else {
        self.lastDivision = {division: data.division.code};
        if (data.up) {
          var up = el("button", "picker-tree-up", "‹ " + data.up.name);
          up.type = "button";
          up.addEventListener("click", function () { self.openTree({division: data.up.code}); });
          head.appendChild(up);
        }
        head.appendChild(el("strong", "", data.division.name));
      }
      head.appendChild(close);
      self.tree.appendChild(head);
      var ul = el("ul", "picker-tree-list");
      (data.people || []).forEach(function (c) { ul.appendChild(self.treeChoice(c)); });
      (data.units || []).forEach(function (u) {
        if (self.field.getAttribute("data-picker") === "unit") { ul.appendChild(self.treeChoice(u)); return; }
        var li = el("li", "picker-tree-node"), b = el("button", "", u.name + " ›");
        b.type = "button";
        b.addEventListener("click", function () { self.openTree({unit: u.id}); });
        li.appendChild(b);
        ul.appendChild(li);
      });
      (data.divisions || []).forEach(function (d) {
        var li = el("li", "picker-tree-node"), b = el("button", "", d.name + " ›");
        b.type = "button";
        b.addEventListener("click", function () { self.openTree({division: d.code}); });
        li.appendChild(b);
        ul.appendChild(li);
      });
      if (!ul.children.length) ul.appendChild(el("li", "picker-empty", self.text.none || ""));
      self.tree.appendChild(ul);
      var first = self.tree.querySelector("ul button");
      if (first && where && (where.unit || where.division)) first.focus();
    });
  };

  Picker.prototype.treeChoice = function (c) {
    var self = this, li = el("li", "picker-tree-choice"), b = el("button", "");
    b.type = "button";
    b.appendChild(el("span", "picker-option-name", c.name));
    if (c.detail) b.appendChild(el("span", "picker-option-detail", c.detail));
    b.addEventListener("click", function () {
      self.add(c);
      if (!self.multiple) { self.closeTree(); self.input.focus(); }
    });
    li.appendChild(b);
    return li;
  };

  Picker.prototype.destroy = function () {
    this.box.remove();
    if (this.input.id) { this.field.id = this.input.id; }
    if (this.field.tagName === "INPUT") this.field.type = "text";
    this.field.value = "";
    this.field.removeAttribute("data-picker");
    this.field.officePicker = null;
  };

  // A field whose kind of value follows another field (a flow step names people, units, or a role):
  // data-kind-from="<select name>" data-picker-kinds='{"<kind>": ["person|unit", "<purpose>"]}'.
  function follow(f) {
    var form = f.form, sel = form && form.elements[f.getAttribute("data-kind-from")];
    var kinds = JSON.parse(f.getAttribute("data-picker-kinds") || "{}");
    if (!sel) return;
    sel.addEventListener("change", function () {
      if (f.officePicker) f.officePicker.destroy();
      var k = kinds[sel.value];
      if (k) {
        f.setAttribute("data-picker", k[0]);
        f.setAttribute("data-purpose", k[1]);
        f.setAttribute("data-multiple", "");
        f.officePicker = new Picker(f);
      }
    });
  }

  function enhance(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-picker]"), function (f) {
      if (!f.officePicker) f.officePicker = new Picker(f);
    });
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-kind-from]"), follow);
  }

  window.officePicker = {enhance: enhance};
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { enhance(); });
  else enhance();
})();
