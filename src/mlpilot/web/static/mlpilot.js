// Draws every <canvas data-chart='{...}'> with Chart.js, also after HTMX swaps in fresh HTML.
(function () {
  function draw(root) {
    if (!window.Chart) return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = JSON.parse(canvas.getAttribute("data-chart"));
      var existing = window.Chart.getChart(canvas);
      if (existing) existing.destroy();
      spec.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, spec.options || {});
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
