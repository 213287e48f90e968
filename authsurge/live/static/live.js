// authsurge's live page: polls /authsurge/live.json once a second and draws each step's
// curves on canvases. No library and nothing from anywhere else (the page's CSP).
"use strict";

const COLORS = { planned: "#888", offered: "#1f6feb", goodput: "#1a7f37", errors: "#cf222e", p95: "#8250df" };
const W = 250, H = 100, PAD = 30;

function text(id, value) {
  const el = document.getElementById(id);
  if (el) el.textContent = value;
}

function fmt(x, digits) {
  if (x === null || x === undefined || Number.isNaN(x)) return "-";
  return Number(x).toLocaleString("en", { maximumFractionDigits: digits === undefined ? 1 : digits });
}

// lines: [{values: [[t, y], ...], color}], one y axis from 0, its unit written on it
function draw(canvas, lines, unit, tMax) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, W, H);
  let yMax = 0;
  for (const line of lines) for (const [, y] of line.values) if (y !== null && y > yMax) yMax = y;
  yMax = unit === "%" ? 100 : yMax > 0 ? yMax * 1.1 : 1;  // a rate's axis: 0-100%
  const x = (t) => PAD + (W - PAD - 4) * (tMax > 0 ? t / tMax : 0);
  const y = (v) => H - 14 - (H - 20) * (v / yMax);
  ctx.strokeStyle = "#ccc"; ctx.beginPath(); ctx.moveTo(PAD, 4); ctx.lineTo(PAD, H - 14); ctx.lineTo(W - 4, H - 14); ctx.stroke();
  ctx.fillStyle = "#666"; ctx.font = "10px sans-serif";
  ctx.fillText(fmt(yMax, 0) + " " + unit, 2, 10);
  ctx.fillText("0", 2, H - 14);
  ctx.fillText(fmt(tMax, 0) + " s", W - 34, H - 2);
  let points = 0;
  for (const line of lines) {
    ctx.strokeStyle = line.color; ctx.lineWidth = 1.5; ctx.beginPath();
    let started = false;
    for (const [t, v] of line.values) {
      if (v === null) { started = false; continue; }
      if (!started) { ctx.moveTo(x(t), y(v)); started = true; } else { ctx.lineTo(x(t), y(v)); }
      points += 1;
    }
    ctx.stroke();
  }
  canvas.dataset.points = String(points);  // what was drawn (read by the tests)
}

function row(tbody, name) {
  let tr = tbody.querySelector(`tr[data-step="${CSS.escape(name)}"]`);
  if (tr) return tr;
  tr = document.createElement("tr");
  tr.dataset.step = name;
  const th = document.createElement("th"); th.textContent = name; tr.appendChild(th);
  const numbers = document.createElement("td"); numbers.className = "numbers"; tr.appendChild(numbers);
  for (const kind of ["throughput", "errors", "p95"]) {
    const td = document.createElement("td");
    const canvas = document.createElement("canvas");
    canvas.width = W; canvas.height = H; canvas.className = kind; canvas.dataset.points = "0";
    td.appendChild(canvas); tr.appendChild(td);
  }
  tbody.appendChild(tr);
  return tr;
}

function render(data) {
  text("scenario", data.scenario || "waiting for a run");
  const status = document.getElementById("status");
  status.textContent = data.status;
  status.className = "status " + (data.status === "running" ? "running" : "done");
  text("elapsed", fmt(data.elapsed_s, 0));
  text("duration", fmt(data.duration_s, 0));
  const now = Math.floor(data.elapsed_s || 0);
  text("planned-now", fmt(data.status === "running" ? (data.planned || [])[now] : 0));
  const j = data.journeys || {};
  text("journeys", fmt(j.started, 0)); text("journeys-ok", fmt(j.ok, 0));
  text("retries", fmt(j.retries, 0)); text("dropped", fmt(j.dropped, 0));
  if (data.population) {
    document.getElementById("population-box").hidden = false;
    text("population", Object.entries(data.population).map(([k, v]) => `${k} ${v}`).join(", ") || "-");
  }
  const gens = Object.entries(data.generators || {});
  text("generator", gens.length ? gens.map(([w, g]) => `${w}: CPU ${fmt(g.cpu_percent, 0)}%, loop lag ${fmt(g.loop_lag_ms)} ms`).join("; ") : "-");
  text("target-cpu", data.target_cpu_percent === null || data.target_cpu_percent === undefined ? "not sampled" : fmt(data.target_cpu_percent, 0) + "% (100 = one core)");

  const knees = document.getElementById("knees");
  knees.replaceChildren();
  if (!(data.knees || []).length) {
    const li = document.createElement("li"); li.className = "none"; li.textContent = "none yet"; knees.appendChild(li);
  }
  for (const k of data.knees || []) {
    const li = document.createElement("li"); li.className = "knee";
    li.textContent = `${k.step}: knee at ${fmt(k.offered)} req/s offered, ${fmt(k.at_s, 0)} s in (${k.reason}); capacity ${fmt(k.capacity)} req/s`;
    knees.appendChild(li);
  }

  const tbody = document.querySelector("#steps tbody");
  if (tbody.dataset.run !== String(data.run || "")) {  // a new run (New test): its own rows
    tbody.replaceChildren();
    tbody.dataset.run = String(data.run || "");
  }
  const tMax = Math.max(data.duration_s || 0, now);
  const planned = (data.planned || []).slice(0, now + 1).map((r, t) => [t, r]);
  for (const step of data.steps || []) {
    const tr = row(tbody, step.step);
    const s = step.series, last = step.last10s;
    tr.children[1].textContent = `offered ${fmt(last.offered_per_s)} req/s, goodput ${fmt(last.goodput_per_s)} req/s, errors ${fmt(100 * last.error_rate)}%, p95 ${fmt(last.p95_ms, 0)} ms` + (step.knee ? `; knee at ${fmt(step.knee.offered)} req/s` : "");
    const canvases = tr.querySelectorAll("canvas");
    const pair = (key, scale) => s.t.map((t, i) => [t, s[key][i] === null ? null : s[key][i] * (scale || 1)]);
    draw(canvases[0], [
      { values: planned, color: COLORS.planned },
      { values: pair("offered"), color: COLORS.offered },
      { values: pair("goodput"), color: COLORS.goodput },
    ], "/s", tMax);
    draw(canvases[1], [{ values: pair("error_rate", 100), color: COLORS.errors }], "%", tMax);
    draw(canvases[2], [{ values: pair("p95_ms"), color: COLORS.p95 }], "ms", tMax);
  }
}

async function poll() {
  try {
    const response = await fetch("/authsurge/live.json", { cache: "no-store" });
    if (response.ok) render(await response.json());
  } catch (err) {
    text("status", "the run's web server is gone (the run ended)");
  }
  setTimeout(poll, 1000);
}

document.addEventListener("DOMContentLoaded", poll);
