// Small inline-SVG charts for the console: a histogram, lines over time and a
// verdict bar. Each chart has a text summary (aria-label) and a hidden data
// table, so a screen reader gets the numbers the picture shows.
import { h } from "./ui.js";

const NS = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null) el.setAttribute(k, String(v));
  for (const c of children) if (c != null) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function svgRoot(width, height, label) {
  return s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, preserveAspectRatio: "xMidYMid meet" });
}

function dataTable(caption, head, rows) {
  return h("table", { class: "visually-hidden" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, head.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((x) => h("td", {}, x))))));
}

// Five steps on the y axis, each a round number.
const STEPS = 5;

function niceMax(v) {
  if (v <= STEPS) return STEPS;
  const step = v / STEPS;
  const p = 10 ** Math.floor(Math.log10(step));
  for (const m of [1, 2, 5, 10]) if (m * p >= step) return m * p * STEPS;
  return v;
}

function yAxis(svg, max, { L, R, T, ih, W }) {
  for (let k = 0; k <= STEPS; k++) {
    const y = T + ih - (ih * k) / STEPS;
    svg.append(s("line", { x1: L, x2: W - R, y1: y, y2: y, stroke: "#dde1e8" }));
    svg.append(s("text", { x: L - 4, y: y + 4, "text-anchor": "end", class: "axis" }, Math.round((max * k) / STEPS)));
  }
}

/** Bars over [edges[i], edges[i+1]). */
export function histogram(edges, counts, { label, color = "#1d3f91" }) {
  const W = 360, H = 190, L = 34, B = 26, T = 10, R = 8;
  const max = niceMax(Math.max(1, ...counts));
  const svg = svgRoot(W, H, label);
  const iw = W - L - R, ih = H - T - B;
  const bw = iw / Math.max(1, counts.length);
  yAxis(svg, max, { L, R, T, ih, W });
  counts.forEach((c, i) => {
    const bh = (ih * c) / max;
    const x = L + i * bw;
    svg.append(s("rect", { x: x + 1, y: T + ih - bh, width: Math.max(1, bw - 2), height: bh, fill: color, rx: 2 },
      s("title", {}, `${fmt(edges[i])}–${fmt(edges[i + 1])}: ${c}`)));
  });
  const ticks = edges.length > 6 ? edges.filter((_, i) => i % Math.ceil(edges.length / 6) === 0 || i === edges.length - 1) : edges;
  for (const e of ticks) {
    const i = edges.indexOf(e);
    const anchor = i === 0 ? "start" : i === edges.length - 1 ? "end" : "middle";
    svg.append(s("text", { x: L + i * bw, y: H - 8, "text-anchor": anchor, class: "axis" }, fmt(e)));
  }
  const rows = counts.map((c, i) => [`${fmt(edges[i])}–${fmt(edges[i + 1])}`, String(c)]);
  return [svg, dataTable(label, ["score", "n"], rows)];
}

/** One line per series over days: series = [{key, label, color}]. */
export function lines(days, series, { label }) {
  const W = 360, H = 190, L = 34, B = 26, T = 10, R = 8;
  const max = niceMax(Math.max(1, ...days.flatMap((d) => series.map((x) => d[x.key] || 0))));
  const svg = svgRoot(W, H, label);
  const iw = W - L - R, ih = H - T - B;
  const xAt = (i) => L + (days.length <= 1 ? iw / 2 : (iw * i) / (days.length - 1));
  const yAt = (v) => T + ih - (ih * v) / max;
  yAxis(svg, max, { L, R, T, ih, W });
  for (const x of series) {
    const pts = days.map((d, i) => `${xAt(i).toFixed(1)},${yAt(d[x.key] || 0).toFixed(1)}`).join(" ");
    svg.append(s("polyline", { points: pts, fill: "none", stroke: x.color, "stroke-width": 2.5, "stroke-linejoin": "round" },
      s("title", {}, x.label)));
    // Dots where something happened: lines over a quiet month are easy to miss.
    days.forEach((d, i) => {
      if (d[x.key]) {
        svg.append(s("circle", { cx: xAt(i), cy: yAt(d[x.key]), r: 3.5, fill: x.color },
          s("title", {}, `${d.day} · ${x.label}: ${d[x.key]}`)));
      }
    });
  }
  if (days.length) {
    const idx = [0, Math.floor((days.length - 1) / 2), days.length - 1];
    for (const i of [...new Set(idx)]) {
      const anchor = i === 0 ? "start" : i === days.length - 1 ? "end" : "middle";
      svg.append(s("text", { x: xAt(i), y: H - 8, "text-anchor": anchor, class: "axis" }, String(days[i].day).slice(5)));
    }
  }
  const legend = h("ul", { class: "legend" },
    series.map((x) => h("li", {}, h("i", { style: `background:${x.color}`, "aria-hidden": "true" }), x.label)));
  const rows = days.map((d) => [d.day, ...series.map((x) => String(d[x.key] || 0))]);
  return [svg, legend, dataTable(label, ["day", ...series.map((x) => x.label)], rows)];
}

/** Good vs bad verdicts as one bar, with the agreement share written out. */
export function verdictBar(good, bad, { label, goodLabel, badLabel, agreementText }) {
  const W = 360, H = 90;
  const total = Math.max(1, good + bad);
  const svg = svgRoot(W, H, label);
  const gw = ((W - 20) * good) / total;
  svg.append(s("rect", { x: 10, y: 14, width: gw, height: 34, fill: "#146c2e", rx: 4 }, s("title", {}, `${goodLabel}: ${good}`)));
  svg.append(s("rect", { x: 10 + gw, y: 14, width: W - 20 - gw, height: 34, fill: "#a4161a", rx: 4 }, s("title", {}, `${badLabel}: ${bad}`)));
  svg.append(s("text", { x: 14, y: 70, class: "axis" }, `${goodLabel} ${good}`));
  svg.append(s("text", { x: W - 14, y: 70, "text-anchor": "end", class: "axis" }, `${badLabel} ${bad}`));
  const parts = [svg];
  if (agreementText) parts.push(h("p", { class: "saved-note" }, agreementText));
  return parts;
}

function fmt(x) {
  return Number(x).toFixed(Number.isInteger(x) ? 0 : 1);
}
