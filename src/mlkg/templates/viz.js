/* mlkg viz: the page script. Every text from the graph is set with textContent (never innerHTML),
   tooltips are DOM elements, and the data comes from a JSON block, so no label can run as code. */
(function () {
  "use strict";
  var payload = JSON.parse(document.getElementById("mlkg-data").textContent);
  var info = payload.info;
  var DIM = "#e4e4e4";
  var ROUTE = "#e31a1c";

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }

  function tooltip(id) {
    var i = info[id];
    var box = el("div", null, "mlkg-tip");
    box.appendChild(el("b", i.label));
    box.appendChild(el("span", i.cls, "mlkg-tip-class"));
    if (i.alt.length) { box.appendChild(el("div", "also: " + i.alt.join(", "))); }
    return box;
  }

  var routeNodes = {};
  payload.route.forEach(function (id) { routeNodes[id] = true; });
  var baseColor = {};
  var byClass = {};
  var nodeData = payload.nodes.map(function (n) {
    var copy = {};
    Object.keys(n).forEach(function (k) { copy[k] = n[k]; });
    copy.label = info[n.id].label;
    copy.title = tooltip(n.id);
    if (routeNodes[n.id]) {
      copy.color = { background: n.color, border: "#111111",
                     highlight: { background: n.color, border: "#111111" },
                     hover: { background: n.color, border: "#111111" } };
      copy.borderWidth = 4;
    }
    baseColor[n.id] = copy.color;
    (byClass[info[n.id].cls] = byClass[info[n.id].cls] || []).push(n.id);
    return copy;
  });
  var edgeData = payload.edges.map(function (e) {
    var copy = { id: e.id, from: e.from, to: e.to, arrows: "to" };
    copy.title = el("div", e.rel, "mlkg-tip");
    if (e.route) {
      copy.color = { color: ROUTE, highlight: ROUTE };
      copy.width = 4;
      if (e.rel === "route") { copy.dashes = true; }
    }
    return copy;
  });

  var nodes = new vis.DataSet(nodeData);
  var edges = new vis.DataSet(edgeData);
  var container = document.getElementById("mlkg-network");
  var network = new vis.Network(container, { nodes: [], edges: [] }, payload.options);
  window.mlkgNetwork = network;

  /* Ready = drawn with physics stopped and every control wired; tests and benchmarks wait for it. */
  var ready = false;
  function markReady() {
    if (ready) { return; }
    ready = true;
    network.once("afterDrawing", function () {
      window.mlkgReadyAt = performance.now();
      if (payload.focus) { choose(payload.focus, false); }
    });
    network.redraw();
  }
  if (payload.physics && nodeData.length > 0) {
    network.once("stabilizationIterationsDone", function () {
      network.setOptions({ physics: { enabled: false } });
      markReady();
    });
  }
  network.setData({ nodes: nodes, edges: edges });
  if (!payload.physics || nodeData.length === 0) { markReady(); }

  /* Neighbourhood highlight */
  var highlighted = null;
  function highlight(id) {
    var keep = {};
    keep[id] = true;
    network.getConnectedNodes(id).forEach(function (n) { keep[n] = true; });
    var updates = [];
    nodes.forEach(function (n) {
      updates.push({ id: n.id, color: keep[n.id] ? baseColor[n.id] : DIM,
                     font: { color: keep[n.id] ? "#343434" : "#c8c8c8" } });
    });
    nodes.update(updates);
    highlighted = id;
  }
  function clearHighlight() {
    if (highlighted === null) { return; }
    var updates = [];
    nodes.forEach(function (n) {
      updates.push({ id: n.id, color: baseColor[n.id], font: { color: "#343434" } });
    });
    nodes.update(updates);
    highlighted = null;
  }

  /* Side panel: facts with evidence, documents */
  var panel = document.getElementById("mlkg-panel");
  function link(text, id) {
    var a = el("a", text, "mlkg-link");
    a.href = "#";
    a.addEventListener("click", function (ev) { ev.preventDefault(); choose(id, true); });
    return a;
  }
  function showPanel(id) {
    var i = info[id];
    panel.replaceChildren();
    panel.appendChild(el("h3", i.label));
    panel.appendChild(el("div", i.cls, "mlkg-class"));
    if (i.alt.length) { panel.appendChild(el("div", "Also called: " + i.alt.join(", "))); }
    panel.appendChild(el("h2", "Facts (" + i.facts.length + ")"));
    var list = el("ul");
    i.facts.forEach(function (f) {
      var li = el("li");
      var other = f.otherId ? link(f.other, f.otherId) : el("span", f.other);
      if (f.dir === "out") {
        li.appendChild(el("span", f.predicate + " → "));
        li.appendChild(other);
      } else {
        li.appendChild(other);
        li.appendChild(el("span", " " + f.predicate + " → this"));
      }
      var extra = [];
      if (f.qualifier) { extra.push(f.qualifier); }
      if (f.years) { extra.push(f.years + " years"); }
      if (extra.length) { li.appendChild(el("span", " (" + extra.join(", ") + ")", "mlkg-class")); }
      f.evidence.forEach(function (ev) {
        li.appendChild(el("blockquote", ev.quote));
        var src = [];
        if (ev.section) { src.push("§ " + ev.section); }
        if (ev.title) { src.push(ev.title); }
        if (ev.file) { src.push(ev.file); }
        if (src.length) { li.appendChild(el("div", src.join(" · "), "mlkg-source")); }
      });
      list.appendChild(li);
    });
    panel.appendChild(list);
    if (i.docs.length) {
      panel.appendChild(el("h2", "Mentioned in"));
      var docs = el("ul");
      i.docs.forEach(function (d) {
        docs.appendChild(el("li", [d.title, d.file].filter(Boolean).join(" · ")));
      });
      panel.appendChild(docs);
    }
  }
  function resetPanel() {
    panel.replaceChildren(el("p", "Click a node to see its facts and their evidence.", "mlkg-hint"));
  }

  /* Class filters (legend) */
  var boxes = {};
  function setClassVisible(cls, visible) {
    nodes.update((byClass[cls] || []).map(function (id) { return { id: id, hidden: !visible }; }));
  }
  var legend = document.getElementById("mlkg-legend-list");
  payload.legend.forEach(function (c) {
    var li = el("li");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.checked = true;
    box.id = "mlkg-class-" + c.cls;
    box.addEventListener("change", function () { setClassVisible(c.cls, box.checked); });
    boxes[c.cls] = box;
    var swatch = el("span", null, "mlkg-swatch");
    swatch.style.background = c.color;
    var label = el("label", c.cls + " (" + c.count + ")");
    label.htmlFor = box.id;
    li.appendChild(box);
    li.appendChild(swatch);
    li.appendChild(label);
    li.appendChild(el("span", c.shape, "mlkg-shape"));
    legend.appendChild(li);
  });

  /* Selecting a node: from a click, the search box, a link or the route list */
  function choose(id, move) {
    var cls = info[id].cls;
    if (boxes[cls] && !boxes[cls].checked) { boxes[cls].checked = true; setClassVisible(cls, true); }
    network.selectNodes([id]);
    if (move) { network.focus(id, { scale: 1.2, animation: { duration: 300 } }); }
    highlight(id);
    showPanel(id);
  }
  network.on("click", function (params) {
    if (params.nodes.length) { choose(params.nodes[0], false); }
    else { clearHighlight(); resetPanel(); }
  });

  /* Route list */
  if (payload.route.length) {
    var routeBox = document.getElementById("mlkg-route");
    var routeList = document.getElementById("mlkg-route-list");
    payload.route.forEach(function (id) {
      var li = el("li");
      li.appendChild(link(info[id].label, id));
      routeList.appendChild(li);
    });
    routeBox.hidden = false;
  }

  /* Search by label or alt label */
  var entries = payload.nodes.map(function (n) {
    var i = info[n.id];
    return { id: n.id, label: i.label, lower: i.label.toLowerCase(),
             alt: i.alt.map(function (a) { return [a, a.toLowerCase()]; }) };
  });
  function search(query) {
    var q = query.trim().toLowerCase();
    if (!q) { return []; }
    var found = [];
    entries.forEach(function (e) {
      var rank = null;
      var via = null;
      if (e.lower === q) { rank = 0; }
      e.alt.forEach(function (a) { if (a[1] === q && (rank === null || rank > 1)) { rank = 1; via = a[0]; } });
      if (rank === null && e.lower.indexOf(q) === 0) { rank = 2; }
      if (rank === null && e.lower.indexOf(q) > 0) { rank = 3; }
      e.alt.forEach(function (a) { if (rank === null && a[1].indexOf(q) >= 0) { rank = 4; via = a[0]; } });
      if (rank !== null) { found.push({ id: e.id, label: e.label, via: via, rank: rank }); }
    });
    found.sort(function (a, b) { return a.rank - b.rank || a.label.localeCompare(b.label); });
    return found.slice(0, 20);
  }
  var input = document.getElementById("mlkg-search");
  var results = document.getElementById("mlkg-results");
  function pick(id) {
    results.hidden = true;
    choose(id, true);
  }
  function showResults(found) {
    results.replaceChildren();
    found.forEach(function (r) {
      var li = el("li", r.label);
      li.setAttribute("role", "option");
      if (r.via) { li.appendChild(el("span", " (" + r.via + ")", "mlkg-match")); }
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); pick(r.id); });
      results.appendChild(li);
    });
    if (!found.length && input.value.trim()) { results.appendChild(el("li", "no match", "mlkg-match")); }
    results.hidden = !input.value.trim();
  }
  input.addEventListener("input", function () { showResults(search(input.value)); });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") {
      ev.preventDefault();
      var found = search(input.value);
      if (found.length) { pick(found[0].id); }
    } else if (ev.key === "Escape") {
      results.hidden = true;
    }
  });
  input.addEventListener("blur", function () { results.hidden = true; });
  window.mlkgSearch = search;
})();
