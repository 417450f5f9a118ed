// The dock page's script: one server-sent event stream (/page/stream)
// carries the whole view first ("init"), then "state", "vehicle" and
// "event" messages. Everything is drawn here, with no library and nothing
// loaded from outside, so the page works on a LAN without internet.
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";
const MAX_EVENTS = 50;
const view = { map: null, state: null, vehicle: null, events: [] };

function $(id) { return document.getElementById(id); }

function text(id, s, cls) {
  const el = $(id);
  el.textContent = s;
  el.className = cls || "";
}

function yesNo(b) { return b ? "yes" : "no"; }

function fmt(n, digits) {
  return (typeof n === "number" && isFinite(n)) ? n.toFixed(digits) : "?";
}

function showState() {
  const m = view.state;
  if (!m) return;
  const s = m.dock;
  const badge = $("ready");
  badge.textContent = m.ready ? "ready" : "not ready";
  badge.className = "badge " + (m.ready ? "ready" : "blocked");
  text("lid", s.lid, s.lid === "unknown" || s.lid === "stopped" ? "bad" : "");
  text("arms", s.arms, s.arms === "unknown" || s.arms === "stopped" ? "bad" : "");
  text("charger", s.charger ? (s.charging ? "on, charging" : "on") : "off");
  text("power", s.power ? "present" : "MISSING", s.power ? "" : "bad");
  text("estop", s.estop ? "PRESSED" : (s.estop_latched ? "latched (reset needed)" : "clear"),
    s.estop || s.estop_latched ? "bad" : "");
  text("mode", s.mode);
  let sortie = "none";
  if (s.sortie) {
    sortie = s.sortie.id + " " + s.sortie.kind + " " + s.sortie.phase;
    if (s.sortie.route) sortie += " (route " + s.sortie.route + ")";
    if (s.sortie.target) sortie += " (target " + fmt(s.sortie.target.lat, 5) + ", " + fmt(s.sortie.target.lon, 5) + ")";
  }
  text("sortie", sortie);
  const w = s.weather || {};
  text("weather", w.stale ? "stale" : "wind " + fmt(w.wind_mps, 1) + " m/s, gust " + fmt(w.gust_mps, 1) +
    " m/s from " + fmt(w.dir_deg, 0) + "°, " + fmt(w.temp_c, 1) + " °C" + (w.rain ? ", rain" : ""), w.stale ? "bad" : "");
  text("blocking", m.blocking.length ? m.blocking.map(b => b.check + ": " + b.detail).join("; ") : "nothing", m.blocking.length ? "bad" : "");
  $("summary").textContent = "lid " + s.lid + ", arms " + s.arms + (s.sortie ? ", sortie " + s.sortie.phase : "");

  const tb = $("faults").tBodies[0];
  tb.replaceChildren();
  const faults = s.faults || [];
  if (!faults.length) {
    row(tb, [["none", "empty"]]);
  }
  for (const f of faults) {
    row(tb, [[f.code, "sev-" + f.severity], [f.severity], [f.message], ["×" + f.count], [f.since, "ts"]]);
  }
}

function row(tb, cells) {
  const tr = tb.insertRow();
  for (const [v, cls] of cells) {
    const td = tr.insertCell();
    td.textContent = v;
    if (cls) td.className = cls;
  }
  return tr;
}

function showVehicle() {
  const v = view.vehicle;
  if (!v) return;
  const tb = $("vehicle").tBodies[0];
  tb.replaceChildren();
  const kv = (k, val, cls) => {
    const tr = tb.insertRow();
    const th = document.createElement("th");
    th.textContent = k;
    tr.appendChild(th);
    const td = tr.insertCell();
    td.textContent = val;
    if (cls) td.className = cls;
  };
  kv("link", v.link ? "up" : "DOWN", v.link ? "" : "bad");
  kv("mode", (v.mode || "?") + (v.armed ? ", ARMED" : ", disarmed"), v.armed ? "sev-warning" : "");
  kv("landed", v.landed);
  kv("position", fmt(v.lat, 6) + ", " + fmt(v.lon, 6));
  kv("altitude", fmt(v.rel_alt_m, 1) + " m above home (" + fmt(v.alt_m, 1) + " m AMSL)");
  kv("speed", fmt(v.ground_speed_mps, 1) + " m/s, climb " + fmt(v.climb_mps, 1) + " m/s, heading " + fmt(v.heading_deg, 0) + "°");
  kv("battery", (v.battery_pct === null ? "?" : fmt(v.battery_pct, 0) + " %") + ", " + fmt(v.voltage_v, 1) + " V, " + fmt(v.current_a, 1) + " A");
  kv("gps", "fix " + v.gps_fix + ", " + v.sats + " sats, hdop " + fmt(v.hdop, 1));
  kv("link quality", fmt(v.loss_pct, 1) + " % loss, rssi " + v.rssi);
}

// eventSummary is the event's own fields, the most telling first.
function eventSummary(e) {
  const first = ["code", "message", "sortie_id", "phase", "reason", "id", "status", "step"];
  const parts = [];
  for (const k of first) {
    if (e[k] !== undefined && e[k] !== "") parts.push(k + "=" + short(e[k]));
  }
  for (const k of Object.keys(e)) {
    if (k === "ts" || k === "type" || first.includes(k) || k === "fault") continue;
    if (parts.length >= 8) break;
    parts.push(k + "=" + short(e[k]));
  }
  return parts.join(" ");
}

function short(v) {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s.length > 80 ? s.slice(0, 77) + "..." : s;
}

function showEvents() {
  const tb = $("events").tBodies[0];
  tb.replaceChildren();
  if (!view.events.length) row(tb, [["no events since the agent started", "empty"]]);
  for (let i = view.events.length - 1; i >= 0; i--) {
    const e = view.events[i];
    const cls = e.type === "fault" ? "sev-" + (e.severity || "critical") : (e.type === "estop" ? "bad" : "");
    row(tb, [[e.ts, "ts"], [e.type, cls], [eventSummary(e)]]);
  }
}

// Local metres east (x) and north (y) of the dock: plenty exact over a
// city's few kilometres.
function project(lat, lon) {
  const d = view.map.dock;
  const k = Math.PI / 180 * 6371008.8;
  return [(lon - d.lon) * k * Math.cos(d.lat * Math.PI / 180), (lat - d.lat) * k];
}

function el(name, attrs, parent) {
  const e = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function hasPosition(v) {
  return v && (v.lat !== 0 || v.lon !== 0);
}

function drawMap() {
  if (!view.map) return;
  const svg = $("map");
  svg.replaceChildren();
  const m = view.map;
  const s = view.state ? view.state.dock : null;
  const radii = s && s.circles ? s.circles.radii_m : [0, 0, 0];
  const v = view.vehicle;
  const target = s && s.sortie && s.sortie.target;

  // The scale fits the largest circle and everything drawn.
  let extent = Math.max(100, radii[2] || 0, m.geofence_radius_m || 0);
  const grow = p => { extent = Math.max(extent, Math.abs(p[0]), Math.abs(p[1])); };
  (m.geofence || []).forEach(p => grow(project(p.lat, p.lon)));
  m.routes.forEach(r => (r.points || []).forEach(p => grow(project(p.lat, p.lon))));
  if (hasPosition(v)) grow(project(v.lat, v.lon));
  if (target) grow(project(target.lat, target.lon));
  const k = 470 / (extent * 1.05);
  const xy = p => { const q = project(p.lat, p.lon); return [q[0] * k, -q[1] * k]; };

  const colours = ["#2e7d32", "#ef8f00", "#c62828"];
  for (let i = 2; i >= 0; i--) {
    if (!(radii[i] > 0)) continue;
    el("circle", { cx: 0, cy: 0, r: radii[i] * k, fill: colours[i], "fill-opacity": 0.07, stroke: colours[i], "stroke-width": 1.5, class: "circle" }, svg);
    const t = el("text", { x: 6, y: -radii[i] * k + 22, fill: colours[i] }, svg);
    t.textContent = [1, 3, 5][i] + " min";
  }
  if (m.geofence && m.geofence.length >= 3) {
    el("polygon", { points: m.geofence.map(p => xy(p).join(",")).join(" "), fill: "none", stroke: "#6a1b9a", "stroke-width": 2, "stroke-dasharray": "8 5", class: "geofence" }, svg);
  } else if (m.geofence_radius_m > 0) {
    el("circle", { cx: 0, cy: 0, r: m.geofence_radius_m * k, fill: "none", stroke: "#6a1b9a", "stroke-width": 2, "stroke-dasharray": "8 5", class: "geofence" }, svg);
  }
  const active = s && s.sortie ? s.sortie.route : "";
  for (const r of m.routes) {
    r.points = r.points || [];
    const pts = [[0, 0]].concat(r.points.map(xy)).concat([[0, 0]]);
    const on = r.name === active;
    el("polyline", { points: pts.map(p => p.join(",")).join(" "), fill: "none", stroke: "#1565c0", "stroke-width": on ? 3.5 : 1.5, "stroke-opacity": on ? 1 : 0.6, class: "route" }, svg);
    r.points.forEach(p => { const q = xy(p); el("circle", { cx: q[0], cy: q[1], r: 5, fill: "#1565c0" }, svg); });
    if (r.points.length) {
      const q = xy(r.points[0]);
      const t = el("text", { x: q[0] + 8, y: q[1] - 8, fill: "#1565c0" }, svg);
      t.textContent = r.name;
    }
  }
  el("rect", { x: -9, y: -9, width: 18, height: 18, fill: "#111", class: "dock" }, svg);
  if (target) {
    const q = xy(target);
    const g = el("g", { transform: "translate(" + q[0] + "," + q[1] + ") scale(1.5)", class: "target" }, svg);
    el("circle", { r: 9, fill: "none", stroke: "#c62828", "stroke-width": 2.5 }, g);
    el("path", { d: "M-14,0H-4M4,0H14M0,-14V-4M0,4V14", stroke: "#c62828", "stroke-width": 2.5 }, g);
  }
  let note = "";
  if (hasPosition(v)) {
    const q = xy(v);
    const g = el("g", { transform: "translate(" + q[0] + "," + q[1] + ") rotate(" + (v.heading_deg || 0) + ") scale(1.8)", class: "vehicle" }, svg);
    el("path", { d: "M0,-13L9,10L0,5L-9,10Z", fill: v.armed ? "#ef6c00" : "#37474f", stroke: "#fff", "stroke-width": 1.5 }, g);
    if (!v.link) note = "vehicle link down: last known position shown";
  } else {
    note = "vehicle position not known yet";
  }
  // Scale bar: a round length near a fifth of the width.
  const want = extent / 2.5;
  const p10 = Math.pow(10, Math.floor(Math.log10(want)));
  const len = [1, 2, 5, 10].map(f => f * p10).filter(x => x <= want).pop() || p10;
  el("path", { d: "M-480,480h" + len * k, stroke: "#111", "stroke-width": 3 }, svg);
  const t = el("text", { x: -480, y: 465, fill: "#111" }, svg);
  t.textContent = len >= 1000 ? (len / 1000) + " km" : len + " m";
  const n = el("text", { x: 440, y: -460, fill: "#111" }, svg);
  n.textContent = "N↑";
  $("map-note").textContent = note;
}

function connect() {
  const es = new EventSource("/page/stream");
  es.addEventListener("init", ev => {
    const d = JSON.parse(ev.data);
    view.map = d.map;
    view.state = d.state;
    view.vehicle = d.vehicle;
    view.events = d.events;
    $("dock-id").textContent = d.dock_id;
    showState(); showVehicle(); showEvents(); drawMap();
    text("conn", "live", "conn live");
  });
  es.addEventListener("state", ev => { view.state = JSON.parse(ev.data); showState(); drawMap(); });
  es.addEventListener("vehicle", ev => { view.vehicle = JSON.parse(ev.data); showVehicle(); drawMap(); });
  es.addEventListener("event", ev => {
    view.events.push(JSON.parse(ev.data));
    if (view.events.length > MAX_EVENTS) view.events.shift();
    showEvents();
  });
  // The browser reconnects by itself (the stream's retry: 2 s); the init
  // message then brings the page up to date.
  es.onerror = () => text("conn", "connection lost, reconnecting", "conn lost");
}

connect();
