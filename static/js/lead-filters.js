// The lead list's filters fold away on a phone; on a wider screen they start open, as
// there is room for them beside the list. Without this script they open when in use.
(function () {
  "use strict";
  var fold = document.querySelector("details[data-open-wide]");
  if (fold && window.matchMedia("(min-width: 40rem)").matches) fold.open = true;
})();
