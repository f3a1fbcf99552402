// Billing dashboard charts (admin): revenue, cost and margin by month; cost and revenue by tenant.
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  function data(id) { return JSON.parse(document.getElementById(id).textContent); }
  var month = data("by-month-data");
  new Chart(document.getElementById("by-month"), {
    data: {
      labels: month.labels,
      datasets: [
        { type: "bar", label: "Revenue (USD)", data: month.revenue, backgroundColor: "#1a7f37" },
        { type: "bar", label: "Microsoft cost", data: month.cost, backgroundColor: "#cf222e" },
        { type: "line", label: "Margin", data: month.margin, borderColor: "#0b5cad", backgroundColor: "#0b5cad" }
      ]
    },
    options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { title: { display: true, text: "USD" } } } }
  });
  var tenant = data("by-tenant-data");
  new Chart(document.getElementById("by-tenant"), {
    type: "bar",
    data: {
      labels: tenant.labels,
      datasets: [
        { label: "Microsoft cost (USD)", data: tenant.cost, backgroundColor: "#cf222e" },
        { label: "Revenue (USD plans)", data: tenant.revenue, backgroundColor: "#1a7f37" }
      ]
    },
    options: { indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false }
  });
})();
