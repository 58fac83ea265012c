/* Instrument capture: any <button data-capture-url="..." data-target="input-id"> reads the
 * instrument (POST, CSRF token in X-CSRFToken) and fills the target with the value as sent.
 *
 * Optional attributes:
 *   data-reading="hidden-input-id"  receives the reading id (cleared if the value is edited)
 *   data-append="1"                 append the value (space-separated) instead of replacing it
 *   data-command="now"              read immediately instead of waiting for a stable value
 *   data-status="element-id"        where to show progress and errors (else: after the button)
 * Errors are shown as the server words them (in the page's language); a refusal of the user's
 * role or a lost session says so. The texts are the page's (lims/jsstrings.py, translated),
 * the raw line the instrument sent is shown under the value. No inline scripts (CSP).
 */
(function () {
  "use strict";

  /* The texts come translated from the page (lims/jsstrings.py, in the catalogue); the
     English below is only a fallback for a page without them. */
  var STRINGS = {};
  try {
    STRINGS = JSON.parse((document.getElementById("lims-strings") || {}).content || "{}");
  } catch (e) { STRINGS = {}; }
  function t(key, fallback) { return STRINGS["capture." + key] || fallback; }
  var TEXT = {
    reading: t("reading", "Reading the instrument…"),
    read: t("read", "Read"),
    stable: t("stable", "stable"),
    unstable: t("unstable", "not stable"),
    raw: t("raw", "as received"),
    failed: t("failed", "The instrument could not be read."),
    network: t("network", "Cannot reach the server. Check the network and try again."),
    expired: t("expired", "The page has expired. Reload the page and try again."),
    forbidden: t("forbidden", "Your account may not read instruments."),
    signedOut: t("signed_out", "You have been signed out. Sign in again.")
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

  /* The line the instrument sent, under the status, so a person can check the value. */
  function showRaw(el, raw) {
    if (!raw) { return; }
    var line = document.createElement("code");
    line.className = "d-block capture-raw text-muted";
    line.textContent = TEXT.raw + ": " + raw;
    el.appendChild(line);
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
      /* A refusal says why: not this user's role, signed out (the sign-in page came back),
         the page expired, or the server's own message about the instrument. */
      if (response.status === 403) { return { error: { message: TEXT.forbidden } }; }
      if (response.redirected || response.status === 401) {
        return { error: { message: TEXT.signedOut } };
      }
      return response.json().catch(function () {
        return { error: { message: response.status === 400 ? TEXT.expired : TEXT.failed } };
      });
    }).then(function (data) {
      if (data && data.error) {
        show(status, data.error.message || TEXT.failed, "error");
        showRaw(status, data.error.raw);
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
      show(status, TEXT.read + ": " + (data.value_display || data.value_text) + unit + " (" +
        (data.stable ? TEXT.stable : TEXT.unstable) + ") · " + data.instrument.name, "ok");
      showRaw(status, data.raw);
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
