// The keyboard-driven labeling page: a key per class, → next, ← previous, s skip, u undo, Enter submits
// multi-label choices. It calls the JSON API with the session cookie (same origin, so the CSRF check passes).
(function () {
  var root = document.getElementById("labeler");
  if (!root) return;
  var id = root.getAttribute("data-labeling");
  var multi = root.getAttribute("data-kind") === "multilabel";
  var history = [];   // assignments answered in this visit, newest last
  var cursor = -1;    // index into history while going back; -1 = the current (new) item
  var current = null; // the item shown
  var chosen = {};    // multi-label: labels toggled on
  var shownAt = Date.now();
  var text = document.getElementById("item-text");
  var fields = document.getElementById("item-fields");
  var status = document.getElementById("status");
  var position = document.getElementById("position");

  function api(method, path, body) {
    var options = {method: method, headers: {"Accept": "application/json"}, credentials: "same-origin"};
    if (body !== undefined) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
    return fetch("/api/v1" + path, options).then(function (r) {
      if (r.status === 204) return null;
      return r.json().then(function (data) {
        if (!r.ok) throw new Error(data.detail || r.statusText);
        return data;
      });
    });
  }

  function show(item) {
    current = item;
    chosen = {};
    shownAt = Date.now();
    root.querySelectorAll(".choice").forEach(function (b) { b.classList.remove("selected"); b.removeAttribute("aria-pressed"); });
    if (!item) {
      text.textContent = root.getAttribute("data-msg-done");
      fields.textContent = "";
      position.textContent = "";
      return;
    }
    text.textContent = item.text;
    fields.textContent = Object.keys(item.fields).map(function (k) { return k + ": " + item.fields[k]; }).join(" · ");
    position.textContent = "#" + (item.row_index + 1) + (item.status !== "open" ? " · " + item.status : "");
    var given = item.label ? (item.label.labels || [item.label.label]) : [];
    given.forEach(function (label) { mark(label, true); });
    root.setAttribute("data-assignment", item.assignment_id);
    root.setAttribute("data-status", item.status);
  }

  function mark(label, on) {
    root.querySelectorAll(".choice").forEach(function (b) {
      if (b.getAttribute("data-label") === label) {
        b.classList.toggle("selected", on);
        if (on) b.setAttribute("aria-pressed", "true"); else b.removeAttribute("aria-pressed");
      }
    });
    if (on) chosen[label] = true; else delete chosen[label];
  }

  function fresh() {
    cursor = -1;
    return api("POST", "/labeling/" + id + "/next").then(show);
  }

  function fail(error) { status.textContent = root.getAttribute("data-msg-error") + " " + error.message; }

  function answer(value) {
    if (!current || current.status === "skipped") return;
    var seconds = (Date.now() - shownAt) / 1000;
    api("POST", "/labeling-assignments/" + current.assignment_id + "/submit", {value: value, seconds_spent: seconds})
      .then(function (saved) {
        status.textContent = "✓ " + (saved.label.label || saved.label.labels.join(", "));
        if (cursor === -1) history.push(saved.assignment_id);
        return cursor === -1 ? fresh() : forward();
      }).catch(fail);
  }

  function choose(label) {
    if (multi) { mark(label, !chosen[label]); return; }
    answer({label: label});
  }

  function back() {
    var index = cursor === -1 ? history.length - 1 : cursor - 1;
    if (index < 0) return;
    cursor = index;
    api("GET", "/labeling-assignments/" + history[index]).then(show).catch(fail);
  }

  function forward() {
    if (cursor === -1) return fresh();
    if (cursor + 1 >= history.length) return fresh();
    cursor += 1;
    return api("GET", "/labeling-assignments/" + history[cursor]).then(show).catch(fail);
  }

  function skip() {
    if (!current || current.status !== "open") return;
    api("POST", "/labeling-assignments/" + current.assignment_id + "/skip").then(fresh).catch(fail);
  }

  // Undo: go back to the last answer, to change it with a key (allowed until it is reviewed).
  function undo() { back(); }

  var keys = {};
  root.querySelectorAll(".choice").forEach(function (b) {
    keys[b.getAttribute("data-key")] = b.getAttribute("data-label");
    b.addEventListener("click", function () { choose(b.getAttribute("data-label")); });
  });
  document.getElementById("previous").addEventListener("click", back);
  document.getElementById("next").addEventListener("click", function () { forward(); });
  document.getElementById("skip").addEventListener("click", skip);
  document.getElementById("undo").addEventListener("click", undo);
  var submit = document.getElementById("submit");
  if (submit) submit.addEventListener("click", function () { answer({labels: Object.keys(chosen)}); });

  document.addEventListener("keydown", function (e) {
    if (e.target && (e.target.tagName === "INPUT" || e.target.tagName === "TEXTAREA" || e.target.tagName === "SELECT")) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var key = e.key.toLowerCase();
    if (keys[key] !== undefined) { choose(keys[key]); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { back(); e.preventDefault(); }
    else if (e.key === "ArrowRight") { forward(); e.preventDefault(); }
    else if (key === "s") { skip(); e.preventDefault(); }
    else if (key === "u") { undo(); e.preventDefault(); }
    else if (e.key === "Enter" && multi) { answer({labels: Object.keys(chosen)}); e.preventDefault(); }
  });

  fresh().catch(fail);
})();
