// The dashboard updates without a reload: the server sends the re-rendered figures as
// server-sent events (/dashboard/events, same filters), and this script puts them in place.
// Without it the page still shows the figures as of its loading.
(function () {
  "use strict";
  var figures = document.getElementById("figures");
  var live = document.getElementById("live");
  if (!figures || !window.EventSource) { return; }
  var source = new EventSource("/dashboard/events" + window.location.search);
  source.addEventListener("figures", function (e) {
    figures.innerHTML = e.data;
    figures.setAttribute("data-version", e.lastEventId);
    if (live) {
      live.textContent = live.getAttribute("data-live") + " " + new Date().toLocaleTimeString();
    }
  });
}());
