// Voting page: take the token from the URL fragment (never sent to the server), clear it
// from the address bar, POST it; hold the answers in the page and retry when the network
// drops. Nothing is written to storage, cookies or history.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var lang = document.body.getAttribute("data-lang") || "vi";

  function swap(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var next = doc.getElementById("main");
    if (next) { main.innerHTML = next.innerHTML; window.scrollTo(0, 0); }
    // The receipt page has no language link (following it would lose the receipt).
    var link = document.getElementById("lang-switch");
    if (link && !doc.getElementById("lang-switch")) { link.remove(); }
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "omit",
      cache: "no-store",
      headers: { "Content-Type": "application/x-www-form-urlencoded" }
    }).then(function (r) { return r.text(); });
  }

  var token = window.location.hash.replace(/^#/, "");
  if (token) {
    // Leave no token in the address bar, the history entry or a later screenshot.
    history.replaceState(null, "", window.location.pathname + window.location.search);
    var opening = document.getElementById("opening");
    var codeForm = document.getElementById("code-form");
    if (opening) { opening.hidden = false; }
    if (codeForm) { codeForm.hidden = true; }
    var body = new URLSearchParams();
    body.set("code", token);
    body.set("lang", lang);
    token = null;
    post("/v", body).then(swap, function () {
      if (opening) { opening.hidden = true; }
      if (codeForm) { codeForm.hidden = false; }
    });
  }

  // Switching language in the middle of a ballot reopens the same ballot in the other
  // language and puts back every answer already given; the token stays out of the URL.
  function answersOf(form) {
    var kept = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.type === "radio" && el.checked) { kept.push([el.name, el.value]); }
      if (el.tagName === "TEXTAREA" && el.value) { kept.push([el.name, el.value]); }
    });
    return kept;
  }

  function restore(form, kept) {
    kept.forEach(function (pair) {
      var fields = form.querySelectorAll("[name='" + pair[0].replace(/'/g, "") + "']");
      Array.prototype.forEach.call(fields, function (el) {
        if (el.type === "radio") { el.checked = el.value === pair[1]; }
        else if (el.tagName === "TEXTAREA") {
          el.value = pair[1];
          var details = el.closest("details");
          if (details) { details.open = true; }
        }
      });
    });
  }

  document.addEventListener("click", function (event) {
    var link = event.target;
    var form = document.getElementById("ballot");
    if (!link || link.id !== "lang-switch" || !form) { return; }
    event.preventDefault();
    var other = lang === "en" ? "vi" : "en";
    var kept = answersOf(form);
    var body = new URLSearchParams();
    body.set("code", form.elements.token.value);
    body.set("lang", other);
    post("/v", body).then(function (html) {
      lang = other;
      document.body.setAttribute("data-lang", other);
      document.documentElement.lang = other;
      var doc = new DOMParser().parseFromString(html, "text/html");
      var nextSwitch = doc.getElementById("lang-switch");
      if (nextSwitch) { link.textContent = nextSwitch.textContent; link.href = nextSwitch.getAttribute("href"); }
      swap(html);
      var next = document.getElementById("ballot");
      if (next) { restore(next, kept); }
    });
  });

  // The comments about one person share one budget (the server checks it too): show what
  // is left as the voter types, counted as the browser counts (UTF-16 code units).
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box || box.tagName !== "TEXTAREA") { return; }
    var group = box.closest("details.texts");
    var note = group && group.querySelector(".budget");
    if (!note) { return; }
    var used = 0;
    Array.prototype.forEach.call(group.querySelectorAll("textarea"), function (el) {
      used += el.value.length;
    });
    var left = Number(note.getAttribute("data-budget")) - used;
    note.textContent = left + " " + note.getAttribute("data-left");
    note.classList.toggle("error", left < 0);
  });

  // The ballot form's button asks for the review page; the review page's buttons go back to
  // edit or send. Every step is a POST whose answer replaces the page's main part.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || (form.id !== "ballot" && form.id !== "review")) { return; }
    event.preventDefault();
    var button = event.submitter || form.querySelector("button[type=submit]");
    var lost = document.getElementById("network-error");
    var label = button.textContent;
    var body = new URLSearchParams(new FormData(form));
    if (button.name) { body.set(button.name, button.value); }
    button.disabled = true;
    if (button.getAttribute("data-sending")) { button.textContent = button.getAttribute("data-sending"); }
    if (lost) { lost.hidden = true; }
    post("/v/cast", body).then(swap, function () {
      // The answers stay in the page; pressing the button again retries. A cast that did
      // land before the reply was lost answers with the same receipt.
      button.disabled = false;
      button.textContent = label;
      if (lost) { lost.hidden = false; lost.scrollIntoView(); }
    });
  });
})();
