// The page's own chart: a few polylines in an SVG, a dashed limit line, vertical markers and the
// count at death. Small on purpose, so the page needs nothing from elsewhere.
"use strict";

const LbawsChart = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const W = 760, H = 240, LEFT = 52, RIGHT = 150, TOP = 14, BOTTOM = 30;

  function node(name, attrs, text) {
    const el = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    return el;
  }

  // Round steps (1, 2, 5 x 10^n) so the axis reads like a ruler.
  function ticks(max, count) {
    const raw = max / count, power = Math.pow(10, Math.floor(Math.log10(raw || 1)));
    const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || power;
    const out = [];
    for (let v = 0; v <= max + 1e-9; v += step) out.push(v);
    return out;
  }

  // spec: {series: [{name, color, points: [[t, v]], faint}], limit: {value, label},
  //        markers: [{t, label}], deaths: [{t, value, label, from: [t, v]}], tmax}
  function draw(spec) {
    const svg = node("svg", {class: "chart", width: W, height: H, viewBox: `0 0 ${W} ${H}`,
                             role: "img", "aria-label": spec.title || "chart"});
    const values = spec.series.flatMap((s) => s.points.map((p) => p[1]))
      .concat(spec.deaths.map((d) => d.value)).filter((v) => v !== null && v !== undefined);
    const times = spec.series.flatMap((s) => s.points.map((p) => p[0]))
      .concat(spec.deaths.map((d) => d.t), spec.markers.map((m) => m.t));
    const ymax = Math.max(10, spec.limit ? spec.limit.value : 0, ...values) * 1.08;
    const tmax = Math.max(1, spec.tmax || 0, ...times) * 1.02;
    const x = (t) => LEFT + (t / tmax) * (W - LEFT - RIGHT);
    const y = (v) => H - BOTTOM - (v / ymax) * (H - TOP - BOTTOM);
    for (const v of ticks(ymax, 5)) {
      svg.append(node("line", {x1: LEFT, x2: W - RIGHT, y1: y(v), y2: y(v), stroke: "#eee"}));
      svg.append(node("text", {x: LEFT - 6, y: y(v) + 4, "text-anchor": "end", fill: "#666"}, String(v)));
    }
    for (const t of ticks(tmax, 8)) {
      svg.append(node("text", {x: x(t), y: H - BOTTOM + 16, "text-anchor": "middle", fill: "#666"}, `${t}s`));
    }
    svg.append(node("line", {x1: LEFT, x2: LEFT, y1: TOP, y2: H - BOTTOM, stroke: "#999"}));
    svg.append(node("line", {x1: LEFT, x2: W - RIGHT, y1: H - BOTTOM, y2: H - BOTTOM, stroke: "#999"}));
    if (spec.limit) {
      svg.append(node("line", {class: "limit", x1: LEFT, x2: W - RIGHT, y1: y(spec.limit.value),
                               y2: y(spec.limit.value), stroke: "#000", "stroke-dasharray": "6 4"}));
      svg.append(node("text", {x: W - RIGHT + 4, y: y(spec.limit.value) + 4}, spec.limit.label));
    }
    for (const m of spec.markers) {
      svg.append(node("line", {class: "marker", x1: x(m.t), x2: x(m.t), y1: TOP, y2: H - BOTTOM, stroke: "#b00020",
                               "stroke-dasharray": "2 3"}));
      svg.append(node("text", {x: x(m.t) - 4, y: TOP + 10, "text-anchor": "end", fill: "#b00020"}, m.label));
    }
    let legend = 0;
    for (const s of spec.series) {
      const points = s.points.filter((p) => p[1] !== null && p[1] !== undefined);
      if (!points.length) continue;
      svg.append(node("polyline", {points: points.map((p) => `${x(p[0])},${y(p[1])}`).join(" "), fill: "none",
                                   stroke: s.color, "stroke-width": s.faint ? 1 : 2, opacity: s.faint ? 0.35 : 1}));
      if (!s.faint) {
        svg.append(node("text", {x: W - RIGHT + 4, y: TOP + 40 + 14 * legend++, fill: s.color}, s.name));
      }
    }
    for (const d of spec.deaths) {
      if (d.from) {
        svg.append(node("line", {x1: x(d.from[0]), y1: y(d.from[1]), x2: x(d.t), y2: y(d.value),
                                 stroke: "#1f5fbf", "stroke-width": 2}));
      }
      svg.append(node("circle", {class: "death", cx: x(d.t), cy: y(d.value), r: 5, fill: "#000"}));
      svg.append(node("text", {x: x(d.t) - 8, y: y(d.value) + 16, "text-anchor": "end"}, d.label));
    }
    return svg;
  }

  return {draw};
})();
