// Turnout page: fetch the counts every 10 s while voting is open and update the table.
// Counts only; the page works without this file (reload to refresh).
(function () {
  "use strict";
  var status = document.getElementById("turnout-status");
  if (!status || !window.fetch) { return; }
  var source = status.getAttribute("data-source");
  var locale = document.documentElement.lang || "vi";
  var format = new Intl.NumberFormat(locale);
  function set(row, field, value) {
    var cell = row.querySelector('[data-field="' + field + '"]');
    if (cell) { cell.textContent = format.format(value); }
  }
  function refresh() {
    fetch(source, { credentials: "same-origin", cache: "no-store" })
      .then(function (reply) { return reply.ok ? reply.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        data.units.forEach(function (unit) {
          var row = document.querySelector('tr[data-unit="' + unit.code + '"]');
          if (row) {
            set(row, "ballots", unit.ballots);
            set(row, "live", unit.live);
            set(row, "electorate", unit.electorate);
          }
        });
        document.getElementById("turnout-total").textContent = format.format(data.ballots);
        status.textContent = status.getAttribute("data-updated") + " " +
          new Date().toLocaleTimeString(locale);
        if (data.status === "open") { window.setTimeout(refresh, 10000); }
      })
      .catch(function () { window.setTimeout(refresh, 30000); });
  }
  window.setTimeout(refresh, 10000);
}());
