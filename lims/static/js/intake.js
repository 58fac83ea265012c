// Intake: search-as-you-type for the business of a sample (the form works without it too:
// the server looks the typed name up and offers the matches).
(function () {
  "use strict";
  var box = document.getElementById("business-search");
  if (!box) { return; }
  var input = box.querySelector("input[name=business_query]");
  var list = document.getElementById("business-suggestions");
  var chosen = document.getElementById("business-chosen");
  var hidden = document.querySelector("input[name=business_id]");
  var url = box.getAttribute("data-search-url");
  var timer = null;
  var last = "";
  var active = -1;

  function clear() {
    list.innerHTML = "";
    list.classList.add("d-none");
    active = -1;
  }

  function pick(item) {
    hidden.value = String(item.id);
    input.value = item.name;
    last = item.name;
    chosen.textContent = item.label + ". ";
    clear();
  }

  function highlight(index) {
    var items = list.querySelectorAll(".list-group-item");
    items.forEach(function (el, i) { el.classList.toggle("active", i === index); });
    active = index;
  }

  function show(items) {
    list.innerHTML = "";
    if (!items.length) {
      var none = document.createElement("div");
      none.className = "list-group-item text-muted";
      none.textContent = list.getAttribute("data-empty") || "—";
      list.appendChild(none);
    }
    items.forEach(function (item) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "list-group-item list-group-item-action";
      button.setAttribute("role", "option");
      var strong = document.createElement("strong");
      strong.textContent = item.name;
      var small = document.createElement("small");
      small.className = "d-block text-muted";
      small.textContent = [item.kind, item.market, item.address, item.district, item.tax_code]
        .filter(Boolean).join(" · ");
      button.appendChild(strong);
      button.appendChild(small);
      button.addEventListener("mousedown", function (event) {
        event.preventDefault();
        pick(item);
      });
      list.appendChild(button);
    });
    list.classList.remove("d-none");
    list._items = items;
  }

  function search() {
    var q = input.value.trim();
    if (q.length < 2) { clear(); return; }
    fetch(url + "?q=" + encodeURIComponent(q), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (items) { if (input.value.trim() === q) { show(items); } })
      .catch(clear);
  }

  input.addEventListener("input", function () {
    if (input.value !== last) {
      hidden.value = "";
      chosen.textContent = "";
    }
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  input.addEventListener("keydown", function (event) {
    var items = list._items || [];
    if (list.classList.contains("d-none") || !items.length) { return; }
    if (event.key === "ArrowDown") {
      event.preventDefault();
      highlight(Math.min(active + 1, items.length - 1));
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      highlight(Math.max(active - 1, 0));
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      pick(items[active]);
    } else if (event.key === "Escape") {
      clear();
    }
  });
  input.addEventListener("blur", function () { setTimeout(clear, 150); });
}());
