// Progressive enhancement for the public pages: a filter box over the disclosures. The page
// works the same without it; the box is only added when this script runs.
(function () {
  "use strict";
  var slot = document.getElementById("filter-slot");
  var items = document.querySelectorAll("ol.disclosures > li");
  if (!slot || items.length === 0) { return; }
  var label = document.createElement("label");
  label.className = "filter";
  label.textContent = slot.getAttribute("data-label") + " ";
  var input = document.createElement("input");
  input.type = "search";
  input.setAttribute("aria-controls", "disclosure-list");
  label.appendChild(input);
  var status = document.createElement("p");
  status.setAttribute("role", "status");
  status.className = "lead";
  slot.appendChild(label);
  slot.appendChild(status);
  input.addEventListener("input", function () {
    var q = input.value.trim().toLowerCase();
    var shown = 0;
    items.forEach(function (li) {
      var hit = q === "" || li.textContent.toLowerCase().indexOf(q) !== -1;
      li.hidden = !hit;
      if (hit) { shown += 1; }
    });
    status.textContent = q === "" ? "" : slot.getAttribute("data-count").replace("{n}", String(shown));
  });
}());
