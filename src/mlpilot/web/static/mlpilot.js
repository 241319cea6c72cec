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

// The running-jobs indicator of the header: polls /api/v1/jobs (the page's session cookie authenticates) and
// lists queued and running jobs with their progress, linking each to the workspace stage where it shows.
(function () {
  var STAGE_OF_KIND = { training: "build#section-runs", datasets: "data#section-datasets", recipes: "data#section-recipes",
    feeder: "data#section-pipelines", reports: "manage#section-reports", risks: "manage", scoring: "operate" };
  function refresh(box) {
    fetch("/api/v1/jobs?limit=50", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (jobs) {
        var active = jobs.filter(function (j) { return j.state === "queued" || j.state === "running"; });
        box.hidden = active.length === 0;
        box.querySelector("[data-jobs-count]").textContent = box.getAttribute("data-label").replace("{n}", active.length);
        var list = box.querySelector("[data-jobs-list]");
        list.textContent = "";
        active.forEach(function (j) {
          var li = document.createElement("li");
          var a = document.createElement("a");
          var stage = STAGE_OF_KIND[(j.kind || "").split(".")[0]];
          a.href = j.project_id ? "/projects/" + j.project_id + (stage ? "/" + stage : "") : "#";
          a.textContent = j.kind + " · " + Math.round((j.progress || 0) * 100) + "%" + (j.message ? " · " + j.message : "");
          li.appendChild(a);
          list.appendChild(li);
        });
        setTimeout(function () { refresh(box); }, active.length ? 3000 : 15000);
      })
      .catch(function () { setTimeout(function () { refresh(box); }, 30000); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-jobs-indicator]");
    if (box) refresh(box);
  });
})();

// The project workspace: an old link to /projects/{id}#section-X goes to the stage page that now shows X; after the
// sections load (they come in late), the page scrolls back to the section named in the address.
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var nav = document.querySelector("[data-section-map]");
    var hash = window.location.hash;
    if (!nav || !hash || hash.indexOf("#section-") !== 0) return;
    if (!document.getElementById(hash.slice(1))) {
      var target = JSON.parse(nav.getAttribute("data-section-map"))[hash.slice(9)];
      if (target) window.location.replace(target + hash);
    }
  });
  var userScrolled = false;
  window.addEventListener("wheel", function () { userScrolled = true; }, { passive: true });
  window.addEventListener("keydown", function () { userScrolled = true; });
  document.addEventListener("htmx:afterSettle", function () {
    var hash = window.location.hash;
    if (userScrolled || !hash || hash.indexOf("#section-") !== 0) return;
    var el = document.getElementById(hash.slice(1));
    if (el) el.scrollIntoView({ block: "start" });
  });
})();

// <table data-table-tools>: a search box above the table and sortable column headers (buttons, so the keyboard
// reaches them); rows are filtered and sorted in the page, numbers as numbers.
(function () {
  function cellValue(row, index) {
    var cell = row.cells[index];
    var text = cell ? cell.textContent.trim() : "";
    var num = parseFloat(text.replace(/[,%]/g, ""));
    return { text: text.toLowerCase(), num: /^-?[\d.,]+%?$/.test(text) && !isNaN(num) ? num : null };
  }
  function enhance(table) {
    if (table.getAttribute("data-enhanced") || !table.tBodies.length) return;
    table.setAttribute("data-enhanced", "1");
    var body = table.tBodies[0];
    if (body.rows.length > 5) {
      var label = document.createElement("label");
      label.className = "inline-label table-search";
      label.textContent = document.body.getAttribute("data-table-search") || "Search";
      var input = document.createElement("input");
      input.type = "search";
      input.addEventListener("input", function () {
        var needle = input.value.trim().toLowerCase();
        Array.prototype.forEach.call(body.rows, function (row) {
          row.hidden = needle !== "" && row.textContent.toLowerCase().indexOf(needle) === -1;
        });
      });
      label.appendChild(input);
      table.parentNode.insertBefore(label, table);
    }
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, index) {
      if (!th.textContent.trim() || th.querySelector("button, a, input")) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (other) { if (other.hasAttribute("aria-sort")) other.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index), y = cellValue(b, index);
          var order = x.num !== null && y.num !== null ? x.num - y.num : x.text.localeCompare(y.text);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }
  function scan(root) { (root.querySelectorAll ? root : document).querySelectorAll("table[data-table-tools]").forEach(enhance); }
  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:afterSwap", function (e) { scan(e.target); });
})();

// <div data-show-when="field=value"> is shown only while the named radio/select of its form has that value
// (a file field for a file source, a query for an SQL source); hidden fields are disabled so they are not sent.
(function () {
  function update(root) {
    root.querySelectorAll("[data-show-when]").forEach(function (box) {
      var parts = box.getAttribute("data-show-when").split("=");
      var form = box.closest("form");
      if (!form) return;
      var field = form.elements[parts[0]];
      if (!field) return;
      var value = field.value !== undefined ? field.value : "";
      if (field.length && !field.tagName) {  // a radio group
        Array.prototype.forEach.call(field, function (r) { if (r.checked) value = r.value; });
      }
      var show = parts[1].split("|").indexOf(value) !== -1;
      box.hidden = !show;
      box.querySelectorAll("input, select, textarea").forEach(function (el) { el.disabled = !show; });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { update(document); });
  document.addEventListener("change", function () { update(document); });
  document.addEventListener("htmx:afterSwap", function () { update(document); });
})();

// A region that scrolls (a log, a wide table's card) takes keyboard focus so it can be scrolled without a mouse.
(function () {
  function focusable(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("pre, .card, .table-scroll").forEach(function (el) {
      if (el.hasAttribute("tabindex")) return;
      var style = window.getComputedStyle(el);
      var scrolls = (el.scrollWidth > el.clientWidth && style.overflowX !== "visible" && style.overflowX !== "hidden") ||
        (el.scrollHeight > el.clientHeight && style.overflowY !== "visible" && style.overflowY !== "hidden");
      if (scrolls) el.setAttribute("tabindex", "0");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { focusable(document); });
  document.addEventListener("htmx:afterSettle", function () { focusable(document); });
  document.addEventListener("toggle", function () { focusable(document); }, true);
})();
