// mlkg query page: named queries as examples, a plain editor, results as a table.
// Everything is built with DOM calls and textContent: no result text is ever parsed as HTML.
"use strict";

const PREFIXES = {
  "https://w3id.org/mlkg/ontology#": "mlkg:",
  "https://w3id.org/mlkg/id/": "mlkgid:",
  "http://www.w3.org/2004/02/skos/core#": "skos:",
  "https://schema.org/": "schema:",
  "http://www.w3.org/ns/prov#": "prov:",
  "http://purl.org/dc/terms/": "dcterms:",
  "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf:",
  "http://www.w3.org/2000/01/rdf-schema#": "rdfs:",
  "http://www.w3.org/2001/XMLSchema#": "xsd:",
};

const $ = (id) => document.getElementById(id);
let current = null; // the named query loaded in the editor, if its text is unchanged

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function shorten(iri) {
  for (const [ns, prefix] of Object.entries(PREFIXES)) {
    if (iri.startsWith(ns)) return prefix + iri.slice(ns.length);
  }
  return iri;
}

function setStatus(text) { $("status").textContent = text; }

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

async function loadExamples() {
  const list = $("examples");
  try {
    const response = await fetch("/api/queries", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error("HTTP " + response.status);
    const data = await response.json();
    list.replaceChildren();
    for (const query of data.queries) {
      const params = query.params.map((p) => p.name);
      const button = el("button", { type: "button", "data-name": query.name, title: query.summary },
        el("strong", null, query.name),
        el("small", null, query.summary + (params.length ? " (" + params.join(", ") + ")" : "")));
      button.addEventListener("click", () => selectExample(query));
      list.append(el("li", null, button));
    }
    if (!data.queries.length) list.replaceChildren(el("li", { class: "muted" }, "no named queries"));
    // A link such as /#example=roles opens (and, without parameters, runs) that example;
    // /#query=... fills the editor with a query and runs it (read-only, like any request).
    // Parameters may follow: /#example=skills-of-role&role=Data%20Scientist.
    const hash = new URLSearchParams(location.hash.slice(1));
    if (hash.get("query")) { $("query").value = hash.get("query"); run(); }
    const match = data.queries.find((q) => q.name === hash.get("example"));
    if (match) {
      selectExample(match);
      const inputs = [...$("params").querySelectorAll("input[data-param]")];
      inputs.forEach((input) => { input.value = hash.get(input.dataset.param) || ""; });
      if (inputs.length && inputs.every((input) => input.value)) run();
    }
  } catch (err) {
    list.replaceChildren(el("li", { class: "muted" }, "named queries unavailable"));
  }
}

function selectExample(query) {
  $("query").value = query.text;
  current = query;
  const box = $("params");
  box.replaceChildren();
  box.hidden = query.params.length === 0;
  for (const param of query.params) {
    const input = el("input", { type: "text", name: param.name, "data-param": param.name,
      placeholder: param.description || param.name, autocomplete: "off" });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); run(); }
    });
    box.append(el("label", null, param.name + " ", input));
  }
  showError("");
  if (query.params.length === 0) run();
  else box.querySelector("input").focus();
}

async function bindParams() {
  // Parameters are bound by the server (labels resolved to IRIs, values never pasted as text).
  const params = {};
  for (const input of $("params").querySelectorAll("input[data-param]")) {
    params[input.dataset.param] = input.value;
  }
  const response = await fetch("/api/prepare", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ name: current.name, params }),
  });
  const data = await response.json().catch(() => ({ error: "HTTP " + response.status }));
  if (!response.ok) throw new Error(data.error || "HTTP " + response.status);
  return data.query;
}

async function run() {
  const button = $("run");
  showError("");
  button.disabled = true;
  setStatus("running…");
  const started = performance.now();
  try {
    let text = $("query").value;
    if (current && text === current.text && current.params.length) text = await bindParams();
    const response = await fetch("/sparql", {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Accept: "application/sparql-results+json, text/turtle;q=0.9",
      },
      body: new URLSearchParams({ query: text }),
    });
    const body = await response.text();
    if (!response.ok) throw new Error(body.trim() || "HTTP " + response.status);
    const type = response.headers.get("Content-Type") || "";
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    const truncated = response.headers.get("X-Mlkg-Truncated");
    if (type.startsWith("application/sparql-results+json")) {
      const data = JSON.parse(body);
      if ("boolean" in data) {
        renderBoolean(data.boolean);
        setStatus(`ASK answered in ${seconds} s`);
      } else {
        renderTable(data.head.vars, data.results.bindings);
        const n = data.results.bindings.length;
        setStatus(`${n} row${n === 1 ? "" : "s"} in ${seconds} s` +
          (truncated ? ` (cut at ${truncated} rows)` : ""));
      }
      updateDownload(text);
    } else {
      $("results").replaceChildren(el("pre", { class: "graph" }, body));
      setStatus(`graph in ${seconds} s` + (truncated ? ` (cut at ${truncated} triples)` : ""));
      $("download").hidden = true;
    }
  } catch (err) {
    showError(err.message);
    setStatus("");
    $("results").replaceChildren();
  } finally {
    button.disabled = false;
  }
}

function updateDownload(text) {
  const link = $("download");
  const url = "/sparql?" + new URLSearchParams({ query: text, format: "csv" }).toString();
  link.hidden = url.length > 60000;
  link.href = url;
  link.setAttribute("download", "results.csv");
}

function renderBoolean(value) {
  $("results").replaceChildren(el("p", { class: "boolean" }, value ? "true" : "false"));
}

function cell(term) {
  if (!term) return el("td");
  if (term.type === "uri") return el("td", null, el("span", { class: "iri", title: term.value }, shorten(term.value)));
  if (term.type === "bnode") return el("td", null, "_:" + term.value);
  const td = el("td", null, term.value);
  if (term["xml:lang"]) td.append(el("span", { class: "lang" }, "@" + term["xml:lang"]));
  else if (term.datatype && !term.datatype.endsWith("#string")) td.append(el("span", { class: "dt" }, shorten(term.datatype)));
  return td;
}

function renderTable(vars, rows) {
  const head = el("tr", null, el("th", null, "#"), ...vars.map((v) => el("th", null, v)));
  const body = el("tbody");
  rows.forEach((row, index) => {
    body.append(el("tr", null, el("td", { class: "n" }, String(index + 1)), ...vars.map((v) => cell(row[v]))));
  });
  $("results").replaceChildren(el("table", { id: "result-table" }, el("thead", null, head), body));
}

document.addEventListener("DOMContentLoaded", () => {
  $("query-form").addEventListener("submit", (event) => { event.preventDefault(); run(); });
  $("query").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); run(); }
    if (event.key === "Tab" && !event.shiftKey) {
      event.preventDefault();
      const area = event.target;
      const start = area.selectionStart;
      area.setRangeText("  ", start, area.selectionEnd, "end");
    }
  });
  $("query").addEventListener("input", () => {
    if (current && $("query").value !== current.text) { current = null; $("params").hidden = true; }
  });
  loadExamples();
});
