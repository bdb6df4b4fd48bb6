// Progressive enhancement of the shopper pages; every page works without it.
// - the country/language picker and the sort change only with their buttons (WCAG 3.2.2:
//   arrow keys fire "change" on a closed select, so nothing here submits on change);
// - on a product page, the size buttons (each a plain form post to the checkout proxy
//   without JavaScript) become a size choice, and "Add to bag" posts it with fetch, keeping
//   the Centra session in its HttpOnly cookie (credentials: "same-origin").
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function cookie(name) {
    var found = document.cookie.split("; ").filter(function (c) {
      return c.indexOf(name + "=") === 0;
    })[0];
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }

  ready(function () {
    // A catalog page is the same for every visitor (an edge cache keeps it): the bag's count
    // is this visitor's, from its cookie.
    document.querySelectorAll("[data-cart-count]").forEach(function (el) {
      if (!el.textContent.trim()) el.textContent = cookie("cart_count") || "0";
    });

    // Filters start folded on small screens, where they would push the products far down.
    var filters = document.querySelector("details.filters-box");
    if (filters && window.matchMedia("(max-width: 899px)").matches) filters.open = false;

    // The country and language picker is folded on small screens only.
    var picker = document.querySelector("details[data-picker]");
    if (picker && window.matchMedia("(min-width: 900px)").matches) picker.open = true;

    var form = document.querySelector("form[data-add-to-cart]");
    if (!form) return;
    var add = form.querySelector("[data-add]");
    var status = form.querySelector("[data-status]");
    var chosen = null;
    add.hidden = false;

    form.querySelectorAll("button[data-item]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        if (button.disabled) return;
        form.querySelectorAll("button[data-item]").forEach(function (b) {
          b.setAttribute("aria-pressed", "false");
        });
        button.setAttribute("aria-pressed", "true");
        chosen = button;
        status.textContent = "";
      });
    });

    // The page's locale is its URL's; the bag is in the visitor's chosen one (cookies). When
    // they differ (a first visit from a link), the choice moves to the page's first, as the
    // picker would: the bag is then priced as the shopper saw it.
    function follow_page_locale() {
      var country = form.querySelector("input[name=country]").value;
      var languageInput = form.querySelector("input[name=language]");
      var language = languageInput.value;
      // no language cookie: the country's own language (see shop.context.store_choice)
      var chosen = cookie("language") || languageInput.dataset.default;
      if (cookie("country") === country && chosen === language) {
        return Promise.resolve();
      }
      var body = new URLSearchParams({ country: country, language: language, next: "/cart" });
      return fetch("/_/context", {
        method: "POST", credentials: "same-origin", body: body, redirect: "manual"
      }).catch(function () {});
    }

    function say(text, kind) {
      status.textContent = text;
      status.className = "buy-status " + kind;
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!chosen) { say(form.dataset.choose, "error"); return; }
      add.disabled = true;
      follow_page_locale().then(function () {
        return fetch("/api/checkout/items/" + encodeURIComponent(chosen.dataset.item), {
          method: "POST",
          credentials: "same-origin",
          headers: { "Accept": "application/json" }
        });
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) throw new Error(response.status);
          var totals = data.selection && data.selection.totals;
          var count = totals && totals.totalQuantity;
          if (typeof count === "number") {
            // the proxy's answer also set the cart_count cookie for the next pages
            document.querySelectorAll("[data-cart-count]").forEach(function (el) {
              el.textContent = String(count);
            });
          }
          say(form.dataset.added, "ok");
        });
      }).catch(function () {
        say(form.dataset.failed, "error");
      }).then(function () {
        add.disabled = false;
      });
    });
  });
})();
