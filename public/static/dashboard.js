// passhook dashboard: progressive enhancement only. Every form works without this file; it adds the
// live payload preview in the integration forms and copy buttons. Same-origin, no dependencies.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Copy buttons: <button class="copy" data-copy="<id of an input or textarea>">.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("button.copy");
    if (!btn) return;
    var field = document.getElementById(btn.getAttribute("data-copy"));
    if (!field) return;
    var label = btn.textContent;
    function done(ok) {
      btn.textContent = ok ? "Copied" : "Press Ctrl+C to copy";
      setTimeout(function () { btn.textContent = label; }, 2000);
    }
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { done(true); }, function () { done(document.execCommand("copy")); });
    } else {
      done(document.execCommand("copy"));
    }
  });

  // Live preview: a form with data-preview="<url>" asks the server (the same mapping code the API uses)
  // for the payload its current rows describe.
  document.querySelectorAll("form[data-preview]").forEach(function (form) {
    var out = document.getElementById("payload-preview");
    if (!out) return;
    var timer = null;
    var seq = 0;
    function refresh() {
      var params = new URLSearchParams();
      new FormData(form).forEach(function (v, k) {
        if (k === "_csrf" || k === "signingSecret" || typeof v !== "string") return;
        params.append(k, v);
      });
      var mine = ++seq;
      fetch(form.getAttribute("data-preview") + "?" + params.toString(), { headers: { accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          if (mine !== seq) return;
          if (body.payload) out.textContent = JSON.stringify(body.payload, null, 2);
          else if (body.issues) out.textContent = body.issues.map(function (i) { return i.path + ": " + i.message; }).join("\n");
          else if (body.error) out.textContent = body.error.message;
        })
        .catch(function () {});
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 200);
    });
  });
})();
