// Progressive enhancement for the booking pages: use the visitor's own time zone.
// Without this script the page works the same; the visitor picks a zone from the list.
(function () {
  "use strict";
  var select = document.querySelector("select[data-detect-timezone]");
  if (!select) return;
  var form = select.form;

  // Changing the zone shows the times in it at once; no button press needed.
  select.addEventListener("change", function () { form.submit(); });

  var params = new URLSearchParams(window.location.search);
  if (params.has("timezone")) return;
  var detected;
  try {
    detected = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  var known = Array.prototype.some.call(select.options, function (option) {
    return option.value === detected;
  });
  if (!detected || !known || detected === select.value) return;
  params.set("timezone", detected);
  window.location.replace(window.location.pathname + "?" + params.toString());
})();
