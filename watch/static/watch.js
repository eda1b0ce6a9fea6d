// The page: the archive at /, a run at /run/ID (live while it runs, replayed once it ended), a check
// at /check/ID. Everything comes from the JSON of watch/app.py; every number is text as well as a line.
"use strict";

const POLL_MS = 500;  // a live run is read twice a second
const ARCHIVE_MS = 2000;
const REPLAY_S = 8;  // a replay plays the whole run in this many seconds
const main = document.getElementById("main");

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const show = (value) => (value === null || value === undefined ? "-" : value);
const seconds = (value) => (value === null || value === undefined ? "-" : `${Number(value).toFixed(1)} s`);

async function getJSON(url) {
  const response = await fetch(url, {cache: "no-store"});
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

// ---- the archive ----

function archiveView(data) {
  const runs = el("table", {id: "runs"},
    el("tr", {}, ["run", "scenario or checked file", "verdict", "date", "duration", "state"].map((h) => el("th", {}, h))),
    data.runs.map((r) => el("tr", {class: "run", "data-id": r.id},
      el("td", {}, el("a", {href: `/run/${r.id}`}, r.id)),
      el("td", {}, r.checked_file ? `${r.scenario} of ${r.checked_file}` : r.scenario),
      el("td", {class: "verdict"}, show(r.verdict)),
      el("td", {class: "num"}, show(r.started)),
      el("td", {class: "num"}, seconds(r.duration_s)),
      el("td", {class: "state"}, r.state))));
  const checks = el("table", {id: "checks"},
    el("tr", {}, ["check", "file", "stage", "agrees", "date"].map((h) => el("th", {}, h))),
    data.checks.map((c) => el("tr", {},
      el("td", {}, el("a", {href: `/check/${c.id}`}, c.id)), el("td", {}, c.file), el("td", {}, show(c.stage)),
      el("td", {}, c.agrees ? "yes" : "no"), el("td", {class: "num"}, c.date))));
  return [el("h1", {}, "Runs"), el("p", {class: "state"}, `Every run under ${data.reports}, newest first.`),
          data.runs.length ? runs : el("p", {}, "No run yet: lbaws scenario NAME --watch"),
          el("h2", {}, "Checks"), data.checks.length ? checks : el("p", {}, "No check yet.")];
}

async function showArchive() {
  document.title = "lbaws watch: runs";
  for (;;) {
    try {
      main.replaceChildren(...archiveView(await getJSON("/api/runs")));
    } catch (error) {
      main.replaceChildren(el("p", {class: "problems"}, `could not read the runs: ${error.message}`));
    }
    await new Promise((resolve) => setTimeout(resolve, ARCHIVE_MS));
  }
}

// ---- a run: its lines gathered into trials ----

function newRun() {
  return {header: null, trials: new Map(), keys: [], events: [], verdict: null, errors: [], report: null};
}

function trialOf(run, label) {
  if (!run.trials.has(label)) {
    run.trials.set(label, {label, key: label, samples: [], events: [], loads: [], death: null, limits: {}});
  }
  return run.trials.get(label);
}

function take(run, line) {
  if (line.kind === "run") run.header = line;
  else if (line.kind === "trial") {
    const trial = Object.assign(trialOf(run, line.trial), line);
    if (!run.keys.includes(trial.key)) run.keys.push(trial.key);
  } else if (line.kind === "sample") trialOf(run, line.trial).samples.push(line);
  else if (line.kind === "load") trialOf(run, line.trial).loads.push(line);
  else if (line.kind === "event") (line.trial ? trialOf(run, line.trial).events : run.events).push(line);
  else if (line.kind === "death") trialOf(run, line.trial).death = line;
  else if (line.kind === "verdict") run.verdict = line;
}

const LIMIT_OF = {fds: "nofile", processes: "nproc", pids: "pids_limit"};

// The counters a trial showed at time `upTo` (all of it when live), as text.
function counters(trial, upTo) {
  const seen = trial.samples.filter((s) => s.t <= upTo);
  const alive = seen.filter((s) => s.alive);
  const last = alive[alive.length - 1] || {};
  const died = trial.events.find((e) => e.exit_code !== undefined && e.t <= upTo);
  const dead = trial.death && trial.death.t <= upTo ? trial.death : null;
  const load = trial.loads.filter((l) => l.t <= upTo).pop();
  const limited = (name, value, limit) => {
    const atDeath = dead && dead.counter === name;
    const shown = atDeath ? dead.value : value;
    const full = limit !== undefined && limit !== null && shown !== undefined && shown !== null && shown >= limit;
    return el("span", {class: `counter${full ? " full" : ""}`, "data-name": name},
      `${name} `, el("span", {class: "value"}, show(shown)),
      limit !== undefined && limit !== null ? el("span", {class: "limit"}, ` / ${limit}`) : null,
      atDeath ? " at death" : "");
  };
  const limits = trial.limits || {};
  const pidsLimit = last.pids_limit !== undefined ? last.pids_limit : limits.pids_limit;
  return el("div", {class: "counters", "data-trial": trial.label},
    el("span", {class: "counter", "data-name": "t"}, `t ${seconds(seen.length ? seen[seen.length - 1].t : null)}`),
    limited("fds", last.fds, limits.nofile),
    limited("processes", last.processes, limits.nproc),
    el("span", {class: "counter", "data-name": "live"}, `live children ${show(last.live)}`),
    el("span", {class: "counter", "data-name": "zombies"}, `zombies ${show(last.zombies)}`),
    last.pids !== undefined ? limited("pids", last.pids, pidsLimit) : null,
    el("span", {class: "counter", "data-name": "requests"},
      load ? `requests ${show(load.requests)}, failures ${show(load.failures)}` : "requests -, failures -"),
    el("span", {class: "counter", "data-name": "server"},
      died ? `server exited (${died.exit_code})` : seen.length ? "server running" : "starting"));
}

// One chart per trial key; the runs of a repeated trial drawn together, the last one solid.
function chart(run, key, upTo) {
  const labels = [...run.trials.values()].filter((t) => t.key === key);
  const first = labels[0];
  const counter = first.counter || "fds";
  const limitName = first.limit_name;
  const series = [], markers = [], deaths = [];
  labels.forEach((trial, index) => {
    const faint = index < labels.length - 1;
    const alive = trial.samples.filter((s) => s.alive && s.t <= upTo);
    const line = (name, color) => ({name, color, faint, points: alive.map((s) => [s.t, s[name]])});
    series.push(line(counter, "#1f5fbf"), line("live", "#2e7d32"), line("zombies", "#c62828"));
    for (const e of trial.events.filter((e) => e.exit_code !== undefined && e.t <= upTo)) {
      markers.push({t: e.t, label: `${labels.length > 1 ? trial.label + ": " : ""}${e.text}`.slice(0, 70)});
    }
    const d = trial.death;
    if (d && d.t <= upTo) {
      const from = alive.length ? [alive[alive.length - 1].t, alive[alive.length - 1][counter]] : null;
      deaths.push({t: d.t, value: d.value, from, label: `${d.counter} ${d.value} of ${d.limit} at death`});
    }
  });
  const tmax = Math.max(0, ...labels.flatMap((t) => t.samples.map((s) => s.t)));
  const limit = limitName && first.limit !== null && first.limit !== undefined
    ? {value: first.limit, label: `${limitName} = ${first.limit}`} : null;
  return LbawsChart.draw({title: `${key}: ${counter} against ${limitName || "no limit"}`, series, limit, markers,
                          deaths, tmax});
}

function banner(verdict) {
  if (!verdict) return null;
  return el("div", {class: `banner ${verdict.verdict}`, id: "verdict"},
    el("div", {class: "word"}, verdict.word, el("span", {class: "state"}, `  (${seconds(verdict.duration_s)})`)),
    el("dl", {}, el("dt", {}, "predicted"), el("dd", {}, verdict.prediction),
      el("dt", {}, "observed"), el("dd", {class: "observed"}, verdict.observed),
      el("dt", {}, "why"), el("dd", {}, verdict.why)));
}

function reportView(id, report) {
  if (!report) return null;
  const numbers = Object.entries((report.verdict || {}).numbers || {});
  return el("section", {id: "report"}, el("h2", {}, "Report"),
    el("p", {}, el("a", {href: `/files/${id}/report.md`}, "report.md"), " ",
      el("a", {href: `/files/${id}/report.json`}, "report.json"), " ",
      el("a", {href: `/files/${id}/samples.ndjson`}, "samples.ndjson")),
    el("table", {}, el("tr", {}, el("th", {}, "measure"), el("th", {}, "value")),
      numbers.map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {class: "num"}, JSON.stringify(v))))),
    Object.entries(report.observations || {}).map(([key, runs]) => {
      const last = runs[runs.length - 1];
      return el("p", {}, `${key}: stage ${last.stage}, limits ${JSON.stringify(last.limits)}, exit `,
                `${show(last.exit_code)}${runs.length > 1 ? `, ${runs.length} runs` : ""}`);
    }),
    el("img", {src: `/files/${id}/timeline.png`, alt: "timeline.png of the run", width: "760"}));
}

function runView(id, run, row, upTo, replay) {
  const h = run.header || {};
  const trials = run.keys.map((key) => {
    const labels = [...run.trials.values()].filter((t) => t.key === key);
    const first = labels[0];
    return el("section", {class: "trial", "data-key": key},
      el("h2", {}, `${key}: stage ${show(first.stage)}`),
      labels.map((trial) => el("div", {}, labels.length > 1 ? el("strong", {}, trial.label) : null,
                                 counters(trial, upTo))),
      chart(run, key, upTo),
      el("ul", {class: "events"}, labels.flatMap((t) => t.events.filter((e) => e.t <= upTo && !e.end).map((e) =>
        el("li", {class: e.exit_code !== undefined ? "died" : ""}, `${t.label} t=${seconds(e.t)}: ${e.text}`)))));
  });
  return [
    el("h1", {}, show(h.scenario || (row && row.scenario)), " ",
       el("span", {class: "state", id: "state"}, run.verdict ? (replay ? "replay" : "ended") : "running")),
    row && row.checked_file ? el("p", {}, `checking ${row.checked_file}`) : null,
    el("p", {}, show(h.summary)),
    el("p", {}, el("strong", {}, "The text predicts: "), show(h.prediction)),
    run.errors.length ? el("div", {class: "problems", id: "problems"}, el("strong", {}, "Could not read all of samples.ndjson:"),
                           el("ul", {}, run.errors.map((e) => el("li", {}, e)))) : null,
    run.verdict ? el("p", {}, el("button", {id: "replay"}, "replay the run")) : null,
    banner(upTo >= Infinity || !replay ? run.verdict : null),
    trials,
    run.events.map((e) => el("p", {class: "state"}, e.text)),
    reportView(id, run.report),
  ];
}

async function showRun(id) {
  document.title = `lbaws watch: ${id}`;
  const run = newRun();
  let since = 0, row = null;
  const render = (upTo, replay) => {
    main.replaceChildren(...runView(id, run, row, upTo, replay).flat().filter((n) => n !== null));
    const button = document.getElementById("replay");
    if (button) button.onclick = () => replayRun(run, render);
  };
  for (;;) {
    try {
      const data = await getJSON(`/api/run/${id}?since=${since}`);
      data.lines.forEach((line) => take(run, line));
      since = data.next;
      run.errors = data.errors;
      row = data.run;
      if (data.done && row.report && !run.report) run.report = await getJSON(`/files/${id}/report.json`);
      render(Infinity, false);
      if (data.done) return;
    } catch (error) {
      main.replaceChildren(el("p", {class: "problems"}, `could not read run ${id}: ${error.message}`));
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

// The same charts and counters drawn again from t=0, as the run went, at REPLAY_S for the whole run.
function replayRun(run, render) {
  const end = Math.max(0, ...[...run.trials.values()].flatMap((t) => t.samples.map((s) => s.t)
    .concat(t.death ? [t.death.t] : [])));
  const started = performance.now();
  const step = () => {
    const upTo = ((performance.now() - started) / 1000) * (end / REPLAY_S);
    if (upTo >= end) { render(Infinity, false); return; }
    render(upTo, true);
    setTimeout(step, 100);
  };
  step();
}

// ---- a check ----

async function showCheck(id) {
  document.title = `lbaws watch: check ${id}`;
  try {
    const c = await getJSON(`/api/check/${id}`);
    const runs = new Map(c.runs.map((r) => [r.scenario, r]));
    main.replaceChildren(
      el("h1", {}, `check of ${c.file}`),
      el("p", {}, `stage ${show(c.stage)}; sha256 `, el("span", {class: "num"}, show(c.sha256)), `; ${c.date}`),
      el("p", {}, c.agrees ? "It behaves as the text's stage in every scenario." : "It differs somewhere."),
      el("table", {id: "check-scenarios"},
        el("tr", {}, ["scenario", "verdict", "your file in", "observed", "duration"].map((h) => el("th", {}, h))),
        c.scenarios.map((s) => el("tr", {},
          el("td", {}, runs.has(s.scenario) ? el("a", {href: `/run/${runs.get(s.scenario).id}`}, s.scenario) : s.scenario),
          el("td", {}, s.verdict), el("td", {}, (s.yours || []).join(", ")), el("td", {}, s.observed),
          el("td", {class: "num"}, seconds(s.duration_s))))),
      Object.keys(c.not_run).length ? el("h2", {}, "Not run") : null,
      el("ul", {}, Object.entries(c.not_run).map(([name, why]) => el("li", {}, `${name}: ${why}`))));
  } catch (error) {
    main.replaceChildren(el("p", {class: "problems"}, `could not read check ${id}: ${error.message}`));
  }
}

const path = decodeURIComponent(location.pathname);
document.getElementById("where").textContent = path === "/" ? "" : path;
if (path.startsWith("/run/")) showRun(path.slice(5));
else if (path.startsWith("/check/")) showCheck(path.slice(7));
else showArchive();
