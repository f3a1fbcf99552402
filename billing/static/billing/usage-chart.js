// Draws the customer's usage chart from the JSON the page embeds (#usage-data).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("usage-data").textContent);
  var canvas = document.getElementById("usage-chart");
  if (!canvas || typeof Chart === "undefined") { return; }
  var colours = ["#0b5cad", "#1a7f37", "#9a6700"];
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.days,
      datasets: data.series.map(function (s, i) {
        return {
          label: s.label,
          data: s.values,
          borderColor: colours[i % colours.length],
          backgroundColor: colours[i % colours.length] + "33",
          fill: true,
          spanGaps: false,
          pointRadius: 0,
          tension: 0.1
        };
      })
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { ticks: { maxTicksLimit: 10 } },
        y: { stacked: true, beginAtZero: true, title: { display: true, text: "GB" } }
      },
      plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + c.formattedValue + " GB"; } } } }
    }
  });
})();
