// The consent banner (shop/_consent.html). The page is the same for every visitor (an edge
// caches it), so the banner starts hidden and this shows it to a visitor who has not chosen
// yet (no consent cookie). A choice is posted with fetch and the banner goes away; without
// JavaScript the banner is always shown and its buttons are a plain form post.
(function () {
  "use strict";

  function start() {
    var box = document.querySelector("[data-consent]");
    if (!box) return;
    var name = box.getAttribute("data-cookie") + "=";
    var chosen = document.cookie.split(/;\s*/).some(function (c) { return c.indexOf(name) === 0; });
    if (chosen) return;
    var form = box.querySelector("form");
    box.hidden = false;

    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || !window.fetch) return; // an old browser: the plain post
      event.preventDefault();
      var body = new URLSearchParams();
      body.set("consent", button.value);
      function plainPost() {
        var field = document.createElement("input");
        field.type = "hidden";
        field.name = "consent";
        field.value = button.value;
        form.appendChild(field);
        form.submit();
      }
      fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        if (response.ok) box.hidden = true;
        else plainPost();
      }, plainPost);
    });
  }

  if (document.readyState !== "loading") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
