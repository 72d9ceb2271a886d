// Step 1's picker, enhanced: days, months and zones swap the calendar and times in place
// (an HTML fragment from the server, never a page load), the times follow the visitor's
// own zone and clock. Without this script every link and the zone button work as pages.
(function () {
  "use strict";
  var picker = document.querySelector("[data-picker]");
  if (!picker || !window.fetch || !window.history || !window.Intl) return;
  var fragmentPath = picker.getAttribute("data-fragment");
  var form = picker.querySelector("[data-zone-form]");
  var select = picker.querySelector("[data-zone-select]");
  var hour12 = clockOfLocale();
  var pending = null;
  // The address (path and query) of what is shown: a popstate that keeps it only moved the
  // hash (the skip link, #times), and must not fetch or rewrite anything.
  var shownAddress = currentAddress();

  function currentAddress() { return window.location.pathname + window.location.search; }

  function body() { return picker.querySelector("#picker-body"); }

  function zone() { return body().getAttribute("data-timezone"); }

  function clockOfLocale() {
    var stored = null;
    try { stored = window.localStorage.getItem("picker-clock"); } catch (error) { /* private mode */ }
    if (stored) return stored === "12";
    return Boolean(new Intl.DateTimeFormat(undefined, { hour: "numeric" }).resolvedOptions().hour12);
  }

  function offsetName(timeZone, date) {
    var part = new Intl.DateTimeFormat("en-GB", { timeZone: timeZone, timeZoneName: "shortOffset" })
      .formatToParts(date).filter(function (p) { return p.type === "timeZoneName"; })[0];
    var text = part ? part.value : "GMT";
    return text === "GMT" ? "GMT+0" : text;
  }

  function placeName(timeZone) { return timeZone.split("/").pop().replace(/_/g, " "); }

  // Every time's label from its UTC instant, in `timeZone` and the chosen clock; the
  // time links carry the zone, so it travels with the chosen slot.
  function relabel(timeZone) {
    var format = new Intl.DateTimeFormat(undefined, {
      hour: hour12 ? "numeric" : "2-digit", minute: "2-digit", hour12: hour12, timeZone: timeZone
    });
    var times = body().querySelectorAll("time[datetime]");
    Array.prototype.forEach.call(times, function (element) {
      element.textContent = format.format(new Date(element.getAttribute("datetime")));
    });
    Array.prototype.forEach.call(body().querySelectorAll("a.time"), function (link) {
      var url = new URL(link.href);
      url.searchParams.set("timezone", timeZone);
      link.href = url.pathname + url.search;
    });
    var label = body().querySelector("[data-zone-label]");
    var first = times[0] ? new Date(times[0].getAttribute("datetime")) : new Date();
    if (label) label.textContent = placeName(timeZone) + " (" + offsetName(timeZone, first) + ")";
  }

  function fragmentUrl(pageUrl) {
    var url = new URL(pageUrl, window.location.href);
    url.hash = "";
    if (fragmentPath) url.pathname = fragmentPath;
    return url;
  }

  // Put the server's calendar and times for `pageUrl` in place; `focusTimes` moves focus to
  // the first time (after a day or month is chosen), not after a zone change. `push` makes
  // a new history entry (a day, a month); `replace` rewrites the current one's address (a
  // zone), so a reload or Back shows what the visitor chose.
  function show(pageUrl, options) {
    if (pending) pending.abort();
    pending = new AbortController();
    picker.setAttribute("aria-busy", "true");
    return fetch(fragmentUrl(pageUrl), {
      signal: pending.signal, headers: { "Accept": "text/html" }, credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) throw new Error("picker answered " + response.status);
      return response.text();
    }).then(function (html) {
      var found = new DOMParser().parseFromString(html, "text/html").querySelector("#picker-body");
      if (!found) throw new Error("no picker in the answer");
      body().replaceWith(document.importNode(found, true));
      if (select && select.value !== zone()) select.value = zone();
      keepDayInForm();
      relabel(zone());
      picker.removeAttribute("aria-busy");
      if (options.push) window.history.pushState({ picker: true }, "", pageAddress(pageUrl));
      if (options.replace) window.history.replaceState(window.history.state, "", pageAddress(pageUrl));
      shownAddress = currentAddress();
      if (options.focusTimes) {
        var first = body().querySelector("a.time") || body().querySelector("#times");
        if (first) first.focus();
      }
    }).catch(function (error) {
      picker.removeAttribute("aria-busy");
      if (error.name === "AbortError") return;
      if (options.fallback) window.location.assign(pageUrl);  // the page itself still works
    });
  }

  function pageAddress(pageUrl) {
    var url = new URL(pageUrl, window.location.href);
    url.hash = "";
    return url.pathname + url.search;
  }

  function keepDayInForm() {
    if (!form) return;
    var day = form.querySelector("input[name=day]");
    if (day) day.value = body().getAttribute("data-day") || "";
  }

  // The same page in `timeZone`: the zone is the visitor's setting, carried to every day.
  function inZone(pageUrl, timeZone) {
    var url = new URL(pageUrl, window.location.href);
    url.searchParams.set("timezone", timeZone);
    return url.href;
  }

  function zoneAddress(timeZone) {
    var params = new URLSearchParams(new FormData(form));
    params.set("timezone", timeZone);
    params.delete("month");
    return form.getAttribute("action").split("#")[0] + "?" + params.toString();
  }

  picker.addEventListener("click", function (event) {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    var link = event.target.closest("a[data-day], a[data-month]");
    if (!link || !picker.contains(link)) return;
    event.preventDefault();
    show(link.href, { push: true, focusTimes: true, fallback: true });
  });

  if (form && select) {
    // The list changes only what is shown, in place: an arrow key never loads a page.
    select.addEventListener("change", function () {
      show(zoneAddress(select.value), { replace: true, focusTimes: false, fallback: false });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      show(zoneAddress(select.value), { replace: true, focusTimes: true, fallback: true });
    });
    addSearch();
    addClockToggle();
  }

  // Back and Forward step through the days and months seen, in the zone chosen last: an
  // entry made before a zone change still holds the old zone in its address.
  window.addEventListener("popstate", function () {
    if (currentAddress() === shownAddress) return;
    show(inZone(window.location.href, zone()), { replace: true, focusTimes: false, fallback: true });
  });

  function addSearch() {
    var tools = document.createElement("div");
    tools.className = "zone-tools";
    var label = document.createElement("label");
    label.htmlFor = "zone-search";
    label.textContent = "Search zones";
    var search = document.createElement("input");
    search.type = "search";
    search.id = "zone-search";
    search.placeholder = "City, e.g. Adelaide";
    search.autocomplete = "off";
    search.addEventListener("input", function () {
      var words = search.value.trim().toLowerCase();
      var firstMatch = null;
      Array.prototype.forEach.call(select.options, function (option) {
        var match = !words || (option.text + " " + option.value).toLowerCase().indexOf(words) !== -1;
        option.hidden = !match;
        if (match && !firstMatch && words) firstMatch = option;
      });
      if (firstMatch && select.value !== firstMatch.value) {
        select.value = firstMatch.value;
        show(zoneAddress(select.value), { replace: true, focusTimes: false, fallback: false });
      }
    });
    tools.appendChild(label);
    tools.appendChild(search);
    form.appendChild(tools);
  }

  function addClockToggle() {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button-small button-quiet clock-toggle";
    function caption() {
      button.textContent = hour12 ? "Show 24-hour clock" : "Show 12-hour clock";
    }
    caption();
    button.addEventListener("click", function () {
      hour12 = !hour12;
      try { window.localStorage.setItem("picker-clock", hour12 ? "12" : "24"); } catch (error) { /* private mode */ }
      caption();
      relabel(zone());
    });
    (form.querySelector(".zone-tools") || form).appendChild(button);
  }

  // The visitor's own zone, without a second page load: labels at once, then the
  // calendar's days for that zone as a fragment.
  var detected;
  try { detected = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (error) { detected = null; }
  var asked = new URLSearchParams(window.location.search).has("timezone");
  if (detected && !asked && detected !== zone()) {
    relabel(detected);
    show(inZone(window.location.href, detected), { replace: true, focusTimes: false, fallback: false });
  } else {
    relabel(zone());
  }
})();
