/* Instrument capture: any <button data-capture-url="..." data-target="input-id"> reads the
 * instrument (POST, CSRF token in X-CSRFToken) and fills the target with the value as sent.
 *
 * Optional attributes:
 *   data-reading="hidden-input-id"  receives the reading id (cleared if the value is edited)
 *   data-append="1"                 append the value (space-separated) instead of replacing it
 *   data-command="now"              read immediately instead of waiting for a stable value
 *   data-status="element-id"        where to show progress and errors (else: after the button)
 * Errors are shown as the server words them (in the page's language). No inline scripts (CSP).
 */
(function () {
  "use strict";

  var vi = (document.documentElement.lang || "vi").slice(0, 2) !== "en";
  var TEXT = vi ? {
    reading: "Đang đọc thiết bị…",
    read: "Đã đọc",
    stable: "ổn định",
    unstable: "chưa ổn định",
    failed: "Không đọc được thiết bị.",
    network: "Không kết nối được với máy chủ. Kiểm tra mạng rồi thử lại.",
    expired: "Trang đã hết hạn. Tải lại trang rồi thử lại."
  } : {
    reading: "Reading the instrument…",
    read: "Read",
    stable: "stable",
    unstable: "not stable",
    failed: "The instrument could not be read.",
    network: "Cannot reach the server. Check the network and try again.",
    expired: "The page has expired. Reload the page and try again."
  };

  function csrfToken(button) {
    if (button.dataset.csrf) { return button.dataset.csrf; }
    var form = button.closest("form");
    var input = (form && form.querySelector("input[name=csrf_token]")) ||
      document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  function statusElement(button) {
    var id = button.dataset.status;
    var el = id ? document.getElementById(id) : null;
    if (!el) {
      el = button.parentNode.querySelector(".capture-status");
      if (!el) {
        el = document.createElement("div");
        el.className = "capture-status small mt-1";
        el.setAttribute("role", "status");
        el.setAttribute("aria-live", "polite");
        button.insertAdjacentElement("afterend", el);
      }
    }
    return el;
  }

  function show(el, text, kind) {
    el.textContent = text;
    el.classList.remove("text-danger", "text-success", "text-muted");
    el.classList.add(kind === "error" ? "text-danger" : kind === "ok" ? "text-success" : "text-muted");
  }

  function fill(el, value, append) {
    if (!el) { return; }
    if ("value" in el && el.tagName !== "BUTTON") {
      el.value = append && el.value.trim() ? el.value.trim() + " " + value : value;
      el.dispatchEvent(new Event("change", { bubbles: true }));
    } else {
      el.textContent = value;
    }
  }

  function capture(button) {
    var target = document.getElementById(button.dataset.target || "");
    var reading = document.getElementById(button.dataset.reading || "");
    var append = button.dataset.append === "1";
    var status = statusElement(button);
    var body = new FormData();
    body.append("command", button.dataset.command || "stable");
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    show(status, TEXT.reading, "info");
    fetch(button.dataset.captureUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(button), "Accept": "application/json" },
      body: body
    }).then(function (response) {
      return response.json().catch(function () {
        return { error: { message: response.status === 400 ? TEXT.expired : TEXT.failed } };
      });
    }).then(function (data) {
      if (data && data.error) {
        show(status, data.error.message || TEXT.failed, "error");
        return;
      }
      /* An entry box gets value_input, the reading with the decimal comma, so "1.500" (one
         point five) is never taken for one thousand five hundred when it is read back as typed
         text; a read-only display shows the value as the instrument sent it. */
      var typed = target && !target.readOnly && data.value_input;
      fill(target, typed ? data.value_input : data.value_text, append);
      if (target) { target.dataset.readValue = target.value; }
      if (reading) {
        fill(reading, String(data.reading_id), append);
      }
      var unit = data.unit ? " " + data.unit : "";
      show(status, TEXT.read + ": " + data.value_text + unit + " (" +
        (data.stable ? TEXT.stable : TEXT.unstable) + ") · " + data.instrument.name, "ok");
    }).catch(function () {
      show(status, TEXT.network, "error");
    }).then(function () {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-capture-url]");
    if (!button || button.disabled) { return; }
    event.preventDefault();
    capture(button);
  });

  /* A value typed over a captured one is no longer that reading: drop the reading id. */
  document.addEventListener("input", function (event) {
    var el = event.target;
    if (!el.dataset || el.dataset.readValue === undefined) { return; }
    if (el.value !== el.dataset.readValue) {
      document.querySelectorAll("button[data-capture-url][data-target='" + el.id + "']")
        .forEach(function (button) {
          var reading = document.getElementById(button.dataset.reading || "");
          if (reading && button.dataset.append !== "1") { reading.value = ""; }
        });
      delete el.dataset.readValue;
    }
  });
}());
