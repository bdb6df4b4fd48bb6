// Progressive enhancement of the bag, checkout and account pages; each works without it.
// - checkout: nothing here re-prices on change. A new country, state or delivery method
//   re-prices with its "Update total" button (the form's update action), as without this
//   script: arrow keys on a select or in a radio group fire change at every step, and one
//   keypress must not move the order to another country's prices (WCAG 3.2.2 On Input);
// - one payment at a time: a second click while the first is on its way is ignored;
// - a payment provider's form without a button of its own is posted at once, as the
//   provider means it to be;
// - our echo of a provider's post back to us (see checkout/pages.py) goes on by itself.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    // The error summary: focused (autofocus may have done it), and each link moves focus to
    // its field with the field's label in view.
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      if (document.activeElement !== summary) summary.focus();
      summary.querySelectorAll("a[href^='#']").forEach(function (link) {
        link.addEventListener("click", function (event) {
          var target = document.getElementById(link.getAttribute("href").slice(1));
          if (!target) return;
          event.preventDefault();
          var field = target.closest(".co-field") || target;
          field.scrollIntoView({ block: "start" });
          target.focus({ preventScroll: true });
        });
      });
    }

    var form = document.querySelector("form[data-checkout]");
    if (form) {
      var busy = false;
      form.addEventListener("submit", function (event) {
        if (busy) { event.preventDefault(); return; }
        busy = true;
        form.classList.add("co-busy");
      });
      // Back from the provider's page, the browser may show this page from its cache.
      window.addEventListener("pageshow", function () {
        busy = false;
        form.classList.remove("co-busy");
      });
    }

    var provider = document.querySelector("[data-provider-form]");
    if (provider) {
      var providerForm = provider.querySelector("form");
      var control = providerForm && providerForm.querySelector(
        "button, input[type=submit], input[type=image]"
      );
      if (providerForm && !control) providerForm.submit();
    }

    var echo = document.querySelector("form[data-echo]");
    if (echo) echo.submit();
  });
})();
