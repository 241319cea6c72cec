// Draws every <canvas data-chart='{...}'> with Chart.js, also after HTMX swaps in fresh HTML.
(function () {
  // Gantt dependency arrows: options.plugins.ganttLinks.links = [[fromRow, fromDay, toRow, toDay, critical], ...]
  // from the end of the predecessor's bar to the start of the successor's.
  var ganttLinks = {
    id: "ganttLinks",
    afterDatasetsDraw: function (chart, args, opts) {
      var links = opts && opts.links;
      if (!links || !links.length) return;
      var x = chart.scales.x, y = chart.scales.y, ctx = chart.ctx;
      ctx.save();
      ctx.lineWidth = 1.3;
      links.forEach(function (l) {
        var x1 = x.getPixelForValue(l[1]), y1 = y.getPixelForValue(l[0]);
        var x2 = x.getPixelForValue(l[3]), y2 = y.getPixelForValue(l[2]);
        ctx.strokeStyle = ctx.fillStyle = l[4] ? opts.critical : opts.color;
        ctx.beginPath();
        ctx.moveTo(x1, y1);
        ctx.lineTo(x1 + 6, y1);
        ctx.lineTo(x1 + 6, y2);
        ctx.lineTo(x2 - 1, y2);
        ctx.stroke();
        ctx.beginPath();
        ctx.moveTo(x2, y2);
        ctx.lineTo(x2 - 6, y2 - 4);
        ctx.lineTo(x2 - 6, y2 + 4);
        ctx.closePath();
        ctx.fill();
      });
      ctx.restore();
    }
  };
  var registered = false;
  function draw(root) {
    if (!window.Chart) return;
    if (!registered) { window.Chart.register(ganttLinks); registered = true; }
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = JSON.parse(canvas.getAttribute("data-chart"));
      var existing = window.Chart.getChart(canvas);
      if (existing) existing.destroy();
      spec.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, spec.options || {});
      // A numeric axis of days counted from a date (ticks.dayOffsetFrom = "YYYY-MM-DD") shows calendar dates.
      Object.keys((spec.options && spec.options.scales) || {}).forEach(function (key) {
        var ticks = spec.options.scales[key].ticks;
        if (!ticks || !ticks.dayOffsetFrom) return;
        var origin = Date.parse(ticks.dayOffsetFrom + "T00:00:00Z");
        ticks.callback = function (value) {
          if (Math.round(value) !== value) return "";
          return new Date(origin + value * 86400000).toISOString().slice(0, 10);
        };
      });
      new window.Chart(canvas, spec);
      canvas.setAttribute("data-drawn", "1");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (e) { draw(e.target); });
})();

// <select data-autosubmit> submits its form on change (kept out of inline handlers, which the CSP forbids);
// data-autosubmit="request" uses requestSubmit() so HTMX-enhanced forms go through HTMX.
document.addEventListener("change", function (e) {
  var field = e.target;
  if (!field.hasAttribute || !field.hasAttribute("data-autosubmit") || !field.form) return;
  if (field.getAttribute("data-autosubmit") === "request") field.form.requestSubmit();
  else field.form.submit();
});

// <form data-confirm="question"> asks before submitting an action that is hard to undo.
document.addEventListener("submit", function (e) {
  var form = e.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) e.preventDefault();
}, true);
