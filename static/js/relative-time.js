// Relative times ("submitted 3 minutes ago") that stay right between the page's updates: the
// campaign page's live poll answers 204 while nothing changed and redraws nothing, so the
// server's words would grow stale. Each <time data-relative-since="<Unix seconds>"> is
// rewritten every 15 s in the words Django's timesince filter uses, by the server's clock
// (the data-server-now of the part it came in), whatever this device's clock says.
// Markup: templates/campaigns/campaign_detail.html. A convenience only: the server's text is
// right when the page is drawn, and the page works without it.
(function () {
  "use strict";

  var REFRESH_MS = 15000;
  // As django.utils.timesince, with a month of 30 days and a year of 365.
  var UNITS = [
    ["year", 365 * 86400],
    ["month", 30 * 86400],
    ["week", 7 * 86400],
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ];
  var NBSP = "\u00a0";
  var serverOffsetMs = 0; // the server's clock minus this device's

  function learnServerClock(root) {
    var holder = root.querySelector("[data-server-now]");
    if (!holder) return;
    var serverNow = parseInt(holder.getAttribute("data-server-now"), 10) * 1000;
    if (serverNow > 0) serverOffsetMs = serverNow - Date.now();
  }

  // "0 minutes", "5 minutes", "2 hours, 3 minutes": the largest unit and the next one, if any.
  function timesince(seconds) {
    var counts = [];
    var rest = Math.max(0, Math.floor(seconds));
    UNITS.forEach(function (unit) {
      counts.push(Math.floor(rest / unit[1]));
      rest %= unit[1];
    });
    var first = counts.findIndex(function (count) { return count > 0; });
    if (first < 0) return "0" + NBSP + "minutes";
    var parts = [];
    for (var i = first; i < UNITS.length && parts.length < 2 && counts[i] > 0; i++) {
      parts.push(counts[i] + NBSP + UNITS[i][0] + (counts[i] === 1 ? "" : "s"));
    }
    return parts.join(", ");
  }

  function refresh() {
    var now = Date.now() + serverOffsetMs;
    document.querySelectorAll("time[data-relative-since]").forEach(function (element) {
      var since = parseInt(element.getAttribute("data-relative-since"), 10) * 1000;
      if (!(since > 0)) return;
      var text = timesince((now - since) / 1000);
      if (element.textContent !== text) element.textContent = text;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    learnServerClock(document);
    setInterval(refresh, REFRESH_MS);
  });
  // A redrawn part brings the server's time and its own fresh words.
  document.addEventListener("htmx:afterSwap", function () {
    learnServerClock(document);
  });
})();
