// Weekly hours on /owner/availability: "Add a range" and "Remove" buttons, in place.
// Without this script the page works the same way by other means: each day ends with an
// empty row (fill it to add a range) and clearing a row's two times removes it on saving.
(function () {
  "use strict";

  function rows(day) {
    return Array.prototype.slice.call(day.querySelectorAll(".time-range"));
  }

  function isEmpty(row) {
    return Array.prototype.every.call(row.querySelectorAll("input"), function (input) {
      return input.value === "";
    });
  }

  function hidden(text) {
    var span = document.createElement("span");
    span.className = "visually-hidden";
    span.textContent = text;
    return span;
  }

  // Ids, labels and button names follow the row's place: "Monday, range 2".
  function renumber(day) {
    var key = "hours_" + day.dataset.day;
    var name = day.dataset.dayName;
    rows(day).forEach(function (row, index) {
      row.querySelectorAll(".time-field").forEach(function (field) {
        var input = field.querySelector("input");
        var part = input.name === key + "_start" ? "start" : "end";
        input.id = key + "_" + part + "_" + index;
        field.querySelector("label").htmlFor = input.id;
        field.querySelector("label .visually-hidden").textContent =
          " (" + name + ", range " + (index + 1) + ")";
      });
      var remove = row.querySelector(".remove-range .visually-hidden");
      if (remove) remove.textContent = " range " + (index + 1) + " of " + name;
    });
  }

  function addRemoveButton(day, row) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button button-small button-quiet remove-range";
    button.appendChild(document.createTextNode("Remove"));
    button.appendChild(hidden(""));
    button.addEventListener("click", function () {
      var all = rows(day);
      if (all.length > 1) {
        var next = all[all.indexOf(row) + 1] || all[all.indexOf(row) - 1];
        row.remove();
        next.querySelector("input").focus();
      } else {
        row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
        row.querySelector("input").focus();
      }
      renumber(day);
    });
    row.appendChild(button);
  }

  function addRange(day) {
    var all = rows(day);
    var row = all[all.length - 1].cloneNode(true);
    row.querySelectorAll("input").forEach(function (input) {
      input.value = "";
      input.removeAttribute("aria-invalid");
    });
    var oldButton = row.querySelector(".remove-range");
    if (oldButton) oldButton.remove();
    all[all.length - 1].after(row);
    addRemoveButton(day, row);
    renumber(day);
    row.querySelector("input").focus();
  }

  function enhance(day) {
    var all = rows(day);
    // The empty row is only the no-script way to add a range; a button does it here.
    if (all.length > 1 && isEmpty(all[all.length - 1]) && !day.classList.contains("has-error")) {
      all[all.length - 1].remove();
    }
    rows(day).forEach(function (row) { addRemoveButton(day, row); });
    var add = document.createElement("button");
    add.type = "button";
    add.className = "button button-small button-quiet add-range";
    add.appendChild(document.createTextNode("Add a range"));
    add.appendChild(hidden(" on " + day.dataset.dayName));
    add.addEventListener("click", function () { addRange(day); });
    day.appendChild(add);
    renumber(day);
  }

  document.querySelectorAll("fieldset.weekday").forEach(enhance);
})();
