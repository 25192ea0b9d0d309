// The usage report's charts (usage/templates/usage/reports.html). Everything shown — labels, series names,
// figures — comes from the page's JSON (usage/views/reports.py chart_data); this file only draws it. Each
// chart has its table on the page as the text alternative, so nothing here needs to be read out.
(function () {
  "use strict";

  var source = document.getElementById("usage-chart-data");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var charts = JSON.parse(source.textContent);

  // Fixed colours per series, so "No-show" is the same red in every organisation's report.
  var COLOURS = {
    held: "#2e7d32",
    no_show: "#c62828",
    cancelled: "#8a8a8a",
    consults: "#1565c0",
    employees: "#1565c0",
    active_employees: "#2e7d32",
    logins: "#f9a825",
    failed_emails: "#6a1b9a"
  };
  var MORE = ["#ef6c00", "#00838f", "#ad1457", "#4e342e", "#283593", "#558b2f"];

  function colour(key, index) {
    return COLOURS[key] || MORE[index % MORE.length];
  }

  function draw(canvas, spec) {
    var datasets = spec.datasets.map(function (set, index) {
      var line = set.type === "line";
      return {
        type: set.type || spec.type,
        label: set.label,
        data: set.data,
        backgroundColor: colour(set.key, index),
        borderColor: colour(set.key, index),
        borderWidth: line ? 2 : 0,
        pointRadius: line ? 2 : 0,
        // A day that was not rolled up is null: a gap, not a line drawn through it.
        spanGaps: false,
        order: line ? 0 : 1
      };
    });
    return new window.Chart(canvas, {
      type: spec.type,
      data: {labels: spec.labels, datasets: datasets},
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: {mode: "index", intersect: false},
        plugins: {legend: {position: "bottom"}},
        scales: {
          x: {stacked: spec.stacked, ticks: {autoSkip: true, maxRotation: 0}},
          y: {stacked: spec.stacked, beginAtZero: true, ticks: {precision: 0}}
        }
      }
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = charts[canvas.dataset.chart];
    if (spec) {
      draw(canvas, spec);
    }
  });
})();
