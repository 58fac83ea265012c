// Warning editor: a picker of register entries that filters as one types (chosen entries shown
// as removable chips), and a small formatting toolbar over the rich-text areas. Both enhance
// the plain form, which works without them: the <select multiple> stays the field that is sent,
// and the text areas hold the HTML the server sanitises (lims/warnings/sanitize.py), so the
// toolbar inserts only tags the allow-list keeps: strong, em, ul/ol/li, a href.
(function () {
  "use strict";
  var STRINGS = {};
  try {
    STRINGS = JSON.parse((document.getElementById("lims-strings") || {}).content || "{}");
  } catch (e) { STRINGS = {}; }
  function t(key, fallback) { return STRINGS["warnings." + key] || fallback; }

  // Lower case, without diacritics ("Hòn Khói" and "hon khoi" match; đ is d).
  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }

  // ------------------------------------------------------------------ entry picker
  function enhancePicker(select) {
    var id = select.id;
    var picker = document.createElement("div");
    picker.className = "entry-picker";
    picker.id = id + "-picker";
    var chips = document.createElement("div");
    chips.className = "entry-chips d-flex flex-wrap gap-1 mb-1";
    chips.id = id + "-chips";
    var filter = document.createElement("input");
    filter.type = "search";
    filter.className = "form-control";
    filter.id = id + "-filter";
    filter.autocomplete = "off";
    filter.placeholder = t("filter", "Type to filter: product, business, parameter, sample code");
    filter.setAttribute("aria-controls", id + "-options");
    var list = document.createElement("div");
    list.className = "list-group entry-options mt-1";
    list.id = id + "-options";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-multiselectable", "true");
    picker.appendChild(chips);
    picker.appendChild(filter);
    picker.appendChild(list);
    select.parentNode.insertBefore(picker, select);
    select.classList.add("d-none");
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
    var help = document.getElementById(id + "-help");
    if (help) { help.textContent = t("help", help.textContent); }
    var label = document.querySelector("label[for='" + id + "']");
    if (label) { label.htmlFor = filter.id; }
    if (select.classList.contains("is-invalid")) { filter.classList.add("is-invalid"); }

    var options = Array.prototype.map.call(select.options, function (o) {
      return { option: o, key: fold(o.text) };
    });

    function renderChips() {
      chips.innerHTML = "";
      options.forEach(function (item) {
        if (!item.option.selected) { return; }
        var chip = document.createElement("span");
        chip.className = "badge text-bg-light border entry-chip d-inline-flex align-items-center";
        chip.setAttribute("data-value", item.option.value);
        var text = document.createElement("span");
        text.className = "text-wrap text-start";
        text.textContent = item.option.text;
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "btn-close btn-close-sm ms-1";
        remove.setAttribute("aria-label", t("remove", "Remove") + ": " + item.option.text);
        remove.addEventListener("click", function () {
          item.option.selected = false;
          update();
          filter.focus();
        });
        chip.appendChild(text);
        chip.appendChild(remove);
        chips.appendChild(chip);
      });
    }

    function renderList() {
      var words = fold(filter.value).split(/\s+/).filter(Boolean);
      list.innerHTML = "";
      var shown = 0;
      options.forEach(function (item) {
        if (item.option.selected || shown >= 50) { return; }
        if (!words.every(function (w) { return item.key.indexOf(w) >= 0; })) { return; }
        shown += 1;
        var button = document.createElement("button");
        button.type = "button";
        button.className = "list-group-item list-group-item-action small";
        button.setAttribute("role", "option");
        button.setAttribute("data-value", item.option.value);
        button.textContent = item.option.text;
        button.addEventListener("click", function () {
          item.option.selected = true;
          filter.value = "";
          update();
          filter.focus();
        });
        list.appendChild(button);
      });
      if (!shown) {
        var none = document.createElement("div");
        none.className = "list-group-item text-muted small";
        none.textContent = t("none", "No entry matches.");
        list.appendChild(none);
      }
    }

    function update() {
      renderChips();
      renderList();
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    filter.addEventListener("input", renderList);
    filter.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {  // choose the first match rather than send the form
        event.preventDefault();
        var first = list.querySelector("button");
        if (first) { first.click(); }
      }
    });
    update();
  }

  // ------------------------------------------------------------------ formatting toolbar
  var ACTIONS = [
    ["bold", "B", "fw-bold"],
    ["italic", "I", "fst-italic"],
    ["bullets", "•", ""],
    ["numbers", "1.", ""],
    ["link", "", "text-decoration-underline"]
  ];

  function escapeAttribute(text) {
    return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;")
      .replace(/>/g, "&gt;");
  }

  function replaceSelection(area, before, inner, after) {
    var start = area.selectionStart;
    var end = area.selectionEnd;
    area.setRangeText(before + inner + after, start, end, "end");
    if (start === end) {  // nothing was selected: put the caret between the tags
      var caret = start + before.length + inner.length;
      area.setSelectionRange(caret, caret);
    }
    area.dispatchEvent(new Event("input", { bubbles: true }));
    area.focus();
  }

  function list(area, tag) {
    var value = area.value;
    var start = area.selectionStart;
    var end = area.selectionEnd;
    // whole lines: from the start of the first selected line to the end of the last
    start = value.lastIndexOf("\n", start - 1) + 1;
    var next = value.indexOf("\n", end > start && value[end - 1] === "\n" ? end - 1 : end);
    end = next < 0 ? value.length : next;
    area.setSelectionRange(start, end);
    var lines = value.slice(start, end).split("\n").filter(function (l) { return l.trim(); });
    var items = (lines.length ? lines : [""]).map(function (l) {
      return "  <li>" + l.trim() + "</li>";
    });
    replaceSelection(area, "<" + tag + ">\n", items.join("\n"), "\n</" + tag + ">");
  }

  function act(area, action) {
    var selected = area.value.slice(area.selectionStart, area.selectionEnd);
    if (action === "bold") {
      replaceSelection(area, "<strong>", selected, "</strong>");
    } else if (action === "italic") {
      replaceSelection(area, "<em>", selected, "</em>");
    } else if (action === "bullets") {
      list(area, "ul");
    } else if (action === "numbers") {
      list(area, "ol");
    } else if (action === "link") {
      var url = window.prompt(t("link_prompt", "Address of the link (https://…)"), "https://");
      if (url === null) { area.focus(); return; }
      url = url.trim();
      if (!/^(https?:\/\/[^\s]+|mailto:[^\s]+)$/i.test(url)) {
        window.alert(t("link_refused", "A link starts with https://, http:// or mailto:."));
        area.focus();
        return;
      }
      replaceSelection(area, "<a href=\"" + escapeAttribute(url) + "\">", selected || url, "</a>");
    }
  }

  function enhanceRich(area) {
    var bar = document.createElement("div");
    bar.className = "btn-toolbar rich-toolbar mb-1";
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", t("toolbar", "Formatting"));
    bar.setAttribute("aria-controls", area.id);
    var group = document.createElement("div");
    group.className = "btn-group btn-group-sm";
    ACTIONS.forEach(function (a) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-outline-secondary";
      button.id = area.id + "-" + a[0];
      button.setAttribute("data-rich-action", a[0]);
      var title = t(a[0], a[0]);
      button.title = title;
      button.setAttribute("aria-label", title);
      var face = document.createElement("span");
      face.setAttribute("aria-hidden", "true");
      if (a[2]) { face.className = a[2]; }
      face.textContent = a[1] || title;
      button.appendChild(face);
      button.addEventListener("mousedown", function (event) { event.preventDefault(); });
      button.addEventListener("click", function () { act(area, a[0]); });
      group.appendChild(button);
    });
    bar.appendChild(group);
    area.parentNode.insertBefore(bar, area);
  }

  document.querySelectorAll("select[data-picker]").forEach(enhancePicker);
  document.querySelectorAll("textarea[data-rich]").forEach(enhanceRich);
}());
