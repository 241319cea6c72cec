// The recipe step builder: one form per step kind, generated from the step schema the page embeds
// (#builder-schema), kept in step with the advanced JSON view (#builder-json) that the form submits.
(function () {
  "use strict";

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (attrs[key] !== undefined && attrs[key] !== null && attrs[key] !== false) node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  // A cell value typed in a box: JSON when it reads as a scalar (12, true, null, "12"), else the text itself.
  function readValue(text) {
    text = text.trim();
    if (text === "") return undefined;
    try {
      var value = JSON.parse(text);
      if (value === null || ["string", "number", "boolean"].indexOf(typeof value) >= 0) return value;
    } catch (e) { /* plain text */ }
    return text;
  }

  function showValue(value) {
    if (value === undefined) return "";
    if (typeof value === "string") {
      try { JSON.parse(value); return JSON.stringify(value); } catch (e) { return value; }
    }
    return JSON.stringify(value);
  }

  function init() {
    var root = document.getElementById("recipe-builder");
    if (!root) return;
    var schema = JSON.parse(document.getElementById("builder-schema").textContent);
    var sourceColumns = JSON.parse(document.getElementById("builder-columns").textContent);
    var text = JSON.parse(document.getElementById("builder-text").textContent);
    var byOp = {};
    schema.forEach(function (form) { byOp[form.op] = form; });
    var list = document.getElementById("builder-steps");
    var empty = document.getElementById("builder-empty");
    var jsonBox = document.getElementById("builder-json");
    var jsonError = document.getElementById("builder-json-error");
    var source = document.getElementById("builder-source");
    var steps = [];
    var uid = 0;

    function columns() { return (source && sourceColumns[source.value]) || []; }
    function sync() { jsonBox.value = JSON.stringify(steps, null, 2); }

    function set(step, name, value) {
      if (value === undefined) delete step[name]; else step[name] = value;
      sync();
    }

    function fieldInput(step, field, id) {
      var value = step[field.name];
      var widget = field.widget;
      if (widget === "choice") {
        var select = el("select", {id: id, name: "", "data-field": field.name});
        if (!field.required) {
          var shown = field.default === null || field.default === undefined ? text.none
            : (field.choice_labels[field.default] || field.default);
          select.appendChild(el("option", {value: "", text: "(" + text["default"] + ": " + shown + ")"}));
        } else if (value === undefined) {
          select.appendChild(el("option", {value: "", text: "—"}));
        }
        if (field.optional_choice && field.default !== null) select.appendChild(el("option", {value: "__null__", text: text.none}));
        field.choices.forEach(function (choice) {
          select.appendChild(el("option", {value: choice, text: field.choice_labels[choice] + (field.choice_labels[choice] !== choice ? " (" + choice + ")" : "")}));
        });
        select.value = value === null ? "__null__" : (value === undefined ? "" : String(value));
        select.addEventListener("change", function () {
          set(step, field.name, select.value === "" ? undefined : (select.value === "__null__" ? null : select.value));
        });
        return select;
      }
      if (widget === "switch") {
        var box = el("input", {type: "checkbox", id: id, "data-field": field.name});
        box.checked = value === undefined ? !!field["default"] : !!value;
        box.addEventListener("change", function () {
          set(step, field.name, box.checked === !!field["default"] ? undefined : box.checked);
        });
        return box;
      }
      if (widget === "columns" || widget === "kinds") {
        var chosen = Array.isArray(value) ? value.slice() : [];
        var options = widget === "kinds" ? field.choices : columns();
        var group = el("div", {"class": "flex builder-checks", id: id, role: "group"});
        var other = null;
        function update() {
          var picked = [];
          group.querySelectorAll("input[type=checkbox]").forEach(function (c) { if (c.checked) picked.push(c.value); });
          if (other) other.value.split(",").forEach(function (name) { name = name.trim(); if (name && picked.indexOf(name) < 0) picked.push(name); });
          set(step, field.name, picked.length ? picked : undefined);
        }
        options.forEach(function (option, i) {
          var check = el("input", {type: "checkbox", value: option, id: id + "-" + i});
          check.checked = chosen.indexOf(option) >= 0;
          check.addEventListener("change", update);
          var label = widget === "kinds" ? field.choice_labels[option] : option;
          group.appendChild(el("label", {"for": id + "-" + i, "class": "check"}, [check, document.createTextNode(" " + label)]));
        });
        if (widget === "columns") {
          other = el("input", {type: "text", "aria-label": text.other_columns, placeholder: text.other_columns, size: "24",
                                value: chosen.filter(function (c) { return options.indexOf(c) < 0; }).join(", ")});
          other.addEventListener("change", update);
          group.appendChild(other);
        }
        return group;
      }
      if (widget === "lines" || widget === "mapping") {
        var area = el("textarea", {id: id, rows: "3", spellcheck: "false", "data-field": field.name});
        if (widget === "lines") area.value = Array.isArray(value) ? value.join("\n") : "";
        else area.value = value ? Object.keys(value).map(function (k) { return k + " = " + showValue(value[k]); }).join("\n") : "";
        area.addEventListener("change", function () {
          var lines = area.value.split("\n").map(function (l) { return l.trim(); }).filter(Boolean);
          if (widget === "lines") { set(step, field.name, lines.length ? lines : undefined); return; }
          var mapping = {};
          lines.forEach(function (line) {
            var at = line.indexOf("=");
            if (at < 0) { mapping[line] = null; return; }
            var key = line.slice(0, at).trim();
            var read = readValue(line.slice(at + 1));
            mapping[key] = read === undefined ? "" : (field.name === "mapping" && step.op === "rename" ? String(read) : read);
          });
          set(step, field.name, lines.length ? mapping : undefined);
        });
        return area;
      }
      var attrs = {id: id, type: widget === "number" ? "number" : "text", "data-field": field.name};
      if (widget === "number") attrs.step = "any";
      if (widget === "column") attrs.list = "builder-column-list";
      if (widget === "expression") { attrs.size = "50"; attrs.spellcheck = "false"; }
      var input = el("input", attrs);
      input.value = widget === "value" ? showValue(value) : (value === undefined || value === null ? "" : String(value));
      input.addEventListener("change", function () {
        var raw = input.value;
        if (widget === "value") set(step, field.name, readValue(raw));
        else if (widget === "number") set(step, field.name, raw.trim() === "" ? undefined : Number(raw));
        else set(step, field.name, raw.trim() === "" ? undefined : raw.trim());
      });
      return input;
    }

    function move(index, by) {
      var target = index + by;
      if (target < 0 || target >= steps.length) return;
      var step = steps.splice(index, 1)[0];
      steps.splice(target, 0, step);
      sync();
      render();
      var button = list.children[target].querySelector(by < 0 ? ".builder-up" : ".builder-down");
      if (button && !button.disabled) button.focus();
    }

    function card(step, index) {
      var form = byOp[step.op];
      var number = index + 1;
      var item = el("li", {"class": "builder-step" + (step.disabled ? " is-disabled" : ""), "data-op": step.op});
      var disable = el("input", {type: "checkbox", "class": "builder-disable", id: "builder-disable-" + (++uid)});
      disable.checked = !!step.disabled;
      disable.addEventListener("change", function () {
        set(step, "disabled", disable.checked ? true : undefined);
        item.classList.toggle("is-disabled", disable.checked);
      });
      var head = el("div", {"class": "flex builder-head"}, [
        el("strong", {text: number + ". " + (form ? form.label : step.op)}),
        form ? el("span", {"class": "muted", text: form.description}) : null,
        el("label", {"for": disable.id, "class": "check"}, [disable, document.createTextNode(" " + text.disabled)]),
        el("button", {type: "button", "class": "secondary builder-up", "aria-label": text.up + " (" + text.step + " " + number + ")", disabled: index === 0 ? "disabled" : null, text: "↑"}),
        el("button", {type: "button", "class": "secondary builder-down", "aria-label": text.down + " (" + text.step + " " + number + ")", disabled: index === steps.length - 1 ? "disabled" : null, text: "↓"}),
        el("button", {type: "button", "class": "secondary builder-remove", "aria-label": text.remove + " (" + text.step + " " + number + ")", text: text.remove}),
      ]);
      head.querySelector(".builder-up").addEventListener("click", function () { move(index, -1); });
      head.querySelector(".builder-down").addEventListener("click", function () { move(index, 1); });
      head.querySelector(".builder-remove").addEventListener("click", function () {
        steps.splice(index, 1); sync(); render();
      });
      item.appendChild(head);
      if (!form) return item;
      var grid = el("div", {"class": "builder-fields"});
      form.fields.forEach(function (field) {
        var id = "builder-f" + (++uid);
        var input = fieldInput(step, field, id);
        var labelText = field.label + (field.required ? " *" : "");
        var label = field.widget === "columns" || field.widget === "kinds"
          ? el("span", {"class": "builder-label", id: id + "-label", text: labelText})
          : el("label", {"for": id, "class": "builder-label", text: labelText});
        if (field.widget === "columns" || field.widget === "kinds") input.setAttribute("aria-labelledby", id + "-label");
        var wrap = el("div", {"class": "builder-field", "data-field": field.name}, [label, input]);
        if (field.hint) wrap.appendChild(el("div", {"class": "hint", text: field.hint}));
        grid.appendChild(wrap);
      });
      item.appendChild(grid);
      return item;
    }

    function render() {
      list.textContent = "";
      steps.forEach(function (step, index) { list.appendChild(card(step, index)); });
      empty.hidden = steps.length > 0;
      var datalist = document.getElementById("builder-column-list");
      if (!datalist) { datalist = el("datalist", {id: "builder-column-list"}); root.appendChild(datalist); }
      datalist.textContent = "";
      columns().forEach(function (c) { datalist.appendChild(el("option", {value: c})); });
    }

    function load(fromText) {
      try {
        var parsed = JSON.parse(fromText || "[]");
        if (!Array.isArray(parsed)) throw new Error("[…]");
        steps = parsed.map(function (s) { return (s && typeof s === "object") ? s : {op: String(s)}; });
        jsonError.hidden = true;
        render();
        return true;
      } catch (e) {
        jsonError.textContent = text.bad_json + " " + e.message;
        jsonError.hidden = false;
        document.getElementById("builder-advanced").open = true;
        return false;
      }
    }

    document.getElementById("builder-add").addEventListener("click", function () {
      var op = document.getElementById("builder-add-op").value;
      steps.push({op: op});
      sync();
      render();
      var added = list.lastElementChild.querySelector("input, select, textarea");
      if (added) added.focus();
    });
    jsonBox.addEventListener("change", function () { load(jsonBox.value); });
    if (source) source.addEventListener("change", render);

    var previewButton = document.getElementById("builder-preview");
    if (previewButton) {
      previewButton.addEventListener("click", function () {
        var target = document.getElementById("builder-preview-result");
        target.textContent = text.loading;
        var body = new URLSearchParams({dataset_version_id: source.value, steps: jsonBox.value});
        fetch("/recipes/" + root.getAttribute("data-recipe") + "/_preview", {
          method: "POST", body: body, credentials: "same-origin",
          headers: {"Content-Type": "application/x-www-form-urlencoded"},
        }).then(function (response) { return response.text(); }).then(function (html) {
          target.innerHTML = html;
        });
      });
    }
    load(jsonBox.value);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
