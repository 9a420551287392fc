// Segment builder: conditions in groups (AND/OR inside a group, AND/OR between groups), kept in
// sync with the filter JSON in a form's textarea, and a live count from /segments/preview.
// Every element with `data-builder` gets one: `data-target` names its textarea, `data-live`
// the element the count goes in (its `data-total-id` the id of the number), `data-csrf` the
// session's token — the segment page has one, the scenario editor one per condition step.
// Plain JavaScript, no libraries; without it the JSON textarea still works.
(function () {
  "use strict";
  const meta = JSON.parse(document.getElementById("segment-fields").textContent);
  document.querySelectorAll("[data-builder]").forEach((box) =>
    builder(box, document.getElementById(box.dataset.target), document.getElementById(box.dataset.live)));

function builder(box, textarea, live) {
  const csrf = box.dataset.csrf;
  const W = meta.words;
  const fields = Object.fromEntries(meta.fields.map((f) => [f.name, f]));
  const OPS = {
    number: ["eq", "ne", "lt", "lte", "gt", "gte", "in"],
    text: ["eq", "ne", "in"],
    flag: ["eq"],
    tags: ["contains"],
    category: ["eq", "in"],
  };
  const isGroup = (g) => g && typeof g === "object" && (Array.isArray(g.all) || Array.isArray(g.any));
  const modeOf = (g) => (Array.isArray(g.all) ? "all" : "any");

  // The builder shows a group of groups of conditions; deeper filters are edited as JSON.
  function toState(f) {
    if (!f || typeof f !== "object") return null;
    if (!isGroup(f)) return { mode: "all", groups: [{ mode: "all", conds: [f] }] };
    const state = { mode: modeOf(f), groups: [] };
    for (const item of f[state.mode]) {
      if (!isGroup(item)) {
        state.groups.push({ mode: "all", conds: [item] });
        continue;
      }
      const m = modeOf(item);
      if (item[m].some(isGroup)) return null;
      state.groups.push({ mode: m, conds: item[m].slice() });
    }
    return state;
  }
  const toFilter = (s) => ({ [s.mode]: s.groups.map((g) => ({ [g.mode]: g.conds })) });

  let state = null;
  try {
    // An empty filter starts an empty builder (no JSON is written until it has a condition).
    state = textarea.value.trim() === "" ? { mode: "all", groups: [] } : toState(JSON.parse(textarea.value));
  } catch (e) {
    state = null;
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c) e.appendChild(c);
    return e;
  }
  function select(options, value, onchange, cls) {
    const s = el("select", { class: cls || "" });
    for (const [v, label] of options) {
      const o = el("option", { value: v, text: label });
      if (String(v) === String(value)) o.selected = true;
      s.appendChild(o);
    }
    s.addEventListener("change", () => onchange(s.value));
    return s;
  }
  const modeSelect = (mode, onchange, cls) =>
    select([["all", W.all], ["any", W.any]], mode, onchange, cls);

  function defaultValue(field, op) {
    const f = fields[field];
    if (f.kind === "flag") return true;
    if (op === "in") return f.choices.length ? [f.choices[0][0]] : [];
    if (f.kind === "number") return 0;
    return f.choices.length ? f.choices[0][0] : "";
  }
  const splitList = (text, numbers) =>
    text.split(/[,、]/).map((x) => x.trim()).filter((x) => x !== "").map((x) => (numbers ? Number(x) : x));

  function valueInput(cond, changed) {
    const f = fields[cond.field];
    if (!f) return el("span", { text: "?" });
    if (f.kind === "flag") {
      return select([["true", W.yes], ["false", W.no]], String(cond.value), (v) => {
        cond.value = v === "true";
        changed();
      }, "value");
    }
    if (cond.op === "in" && f.choices.length) {
      const wrap = el("span", { class: "choices value" });
      const chosen = new Set(Array.isArray(cond.value) ? cond.value : []);
      for (const [v, label] of f.choices) {
        const cb = el("input", { type: "checkbox", value: v });
        cb.checked = chosen.has(v);
        cb.addEventListener("change", () => {
          cond.value = Array.from(wrap.querySelectorAll("input:checked")).map((x) => x.value);
          changed();
        });
        wrap.appendChild(el("label", { class: "choice" }, cb, document.createTextNode(label)));
      }
      return wrap;
    }
    if (cond.op !== "in" && f.choices.length) {
      return select(f.choices, cond.value, (v) => {
        cond.value = v;
        changed();
      }, "value");
    }
    const numeric = f.kind === "number";
    const input = el("input", {
      type: numeric && cond.op !== "in" ? "number" : "text",
      step: "any",
      class: "value",
      placeholder: cond.op === "in" ? W.list_hint : "",
    });
    input.value = Array.isArray(cond.value) ? cond.value.join(", ") : cond.value;
    input.addEventListener("input", () => {
      if (cond.op === "in") cond.value = splitList(input.value, numeric);
      else cond.value = numeric ? Number(input.value) : input.value;
      changed(false);
    });
    return input;
  }

  function render() {
    box.replaceChildren();
    if (!state) {
      box.appendChild(el("p", { class: "muted", text: W.json_only || "JSON" }));
      return;
    }
    box.appendChild(el("div", { class: "row" }, modeSelect(state.mode, (v) => {
      state.mode = v;
      update();
    }, "top-mode")));
    state.groups.forEach((g, gi) => {
      const group = el("fieldset", { class: "group" });
      group.appendChild(el("legend", {}, modeSelect(g.mode, (v) => {
        g.mode = v;
        update();
      }, "group-mode")));
      g.conds.forEach((cond, ci) => {
        const f = fields[cond.field];
        const ops = f ? OPS[f.kind] : [cond.op];
        const row = el("div", { class: "condition row" },
          select(meta.fields.map((x) => [x.name, x.label]), cond.field, (v) => {
            cond.field = v;
            cond.op = OPS[fields[v].kind][0];
            cond.value = defaultValue(v, cond.op);
            update();
          }, "field"),
          select(ops.map((o) => [o, meta.ops[o]]), cond.op, (v) => {
            const wasList = cond.op === "in";
            cond.op = v;
            if (wasList !== (v === "in")) cond.value = defaultValue(cond.field, v);
            update();
          }, "op"),
          valueInput(cond, (rerender = true) => update(rerender)),
          el("button", { type: "button", class: "link remove", text: W.remove, onclick: () => {
            g.conds.splice(ci, 1);
            if (!g.conds.length) state.groups.splice(gi, 1);
            update();
          } }));
        group.appendChild(row);
      });
      group.appendChild(el("button", { type: "button", class: "link add-condition", text: W.add_condition, onclick: () => {
        g.conds.push({ field: "recency_days", op: "gte", value: 90 });
        update();
      } }));
      box.appendChild(group);
    });
    box.appendChild(el("button", { type: "button", class: "link add-group", text: W.add_group, onclick: () => {
      // A new group matches all its conditions, like the top level, until the user says "any".
      state.groups.push({ mode: "all", conds: [{ field: "total_spent", op: "gte", value: 10000 }] });
      update();
    } }));
  }

  let timer = null;
  let asked = 0;
  function preview() {
    if (!live) return;
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const n = ++asked;
      if (textarea.value.trim() === "") {
        live.replaceChildren();
        return;
      }
      let filter;
      try {
        filter = JSON.parse(textarea.value);
      } catch (e) {
        live.className = "live error";
        live.textContent = "JSON: " + e.message;
        return;
      }
      const r = await fetch("/segments/preview", {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": csrf },
        body: JSON.stringify({
          filter,
          groups: state && state.groups.length > 1 ? state.groups.map((g) => ({ [g.mode]: g.conds })) : [],
        }),
      });
      const body = await r.json();
      if (n !== asked) return; // a newer edit is on its way
      live.replaceChildren();
      if (r.ok) {
        live.className = "live";
        live.append(W.count + " ", el("strong", { id: live.dataset.totalId || "", text: String(body.total) }));
        // Each group's own count beside its switch.
        box.querySelectorAll("fieldset.group").forEach((g, i) => {
          let span = g.querySelector(".group-count");
          const n = (body.groups || [])[i];
          if (n === undefined || n === null) {
            if (span) span.remove();
            return;
          }
          if (!span) {
            span = el("span", { class: "group-count muted" });
            g.querySelector("legend").appendChild(span);
          }
          span.textContent = " " + W.group_count + " " + n;
        });
      } else {
        live.className = "live error";
        live.textContent = body.error;
      }
    }, 250);
  }

  function update(rerender = true) {
    if (state) textarea.value = state.groups.length ? JSON.stringify(toFilter(state), null, 2) : "";
    if (rerender) render();
    preview();
  }

  textarea.addEventListener("input", () => {
    try {
      state = toState(JSON.parse(textarea.value));
      render();
    } catch (e) {
      // Half-typed JSON: keep the builder as it was until it parses.
    }
    preview();
  });

  render();
  preview();
}
})();
