// The trainer's live view: the class's running calls; for the selected one the transcript as it
// happens, the matched entry with score and runner-up, the branch, records and escalations, and the
// book's notes (注意/强调/思路) for the current entry; call history with recordings; follow-ups;
// each trainee's mastery per category, a chart over time, the weakest entries and drill results
// (browser drills appear as they are scored).
"use strict";
// Pushed, not polled: one WebSocket (/ws/trainer) brings the class's calls, the selected call's
// events as they happen and drill results as they are scored.
const $ = (id) => document.getElementById(id);
let classId = null, selected = null, sock = null, shownTrainee = null;
window.pushLag = [];   // ms from a change on the server to its line on this page (tests read it)

async function init() {
  const me = await api("/api/me");
  if (me.role !== "trainer") { $("login-view").hidden = false; return; }
  $("room").hidden = false; $("logout").hidden = false;
  await loadClasses();
  connect();
}
function connect() {
  sock = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/trainer");
  sock.onopen = () => { $("live-status").textContent = "live 实时"; watch(); if (selected !== null) select(selected); };
  sock.onmessage = (e) => onPush(JSON.parse(e.data));
  sock.onclose = () => { $("live-status").textContent = "reconnecting…"; sock = null; setTimeout(connect, 2000); };
}
function send(msg) { if (sock && sock.readyState === 1) sock.send(JSON.stringify(msg)); }
function watch() { if (classId) send({type: "watch", class_id: Number(classId)}); }
function lag(at) { if (at) window.pushLag.push(Date.now() - at); }

async function loadClasses(pick) {
  const classes = await api("/api/classes");
  $("classes").replaceChildren(...classes.map(c => el("option", {value: c.id}, `${c.name} (${c.code})`)));
  if (pick) $("classes").value = pick;
  else if (classes.length) $("classes").value = classes[classes.length - 1].id;
  const changed = classId !== ($("classes").value || null);
  classId = $("classes").value || null;
  const cls = classes.find(c => String(c.id) === String(classId));
  $("code").textContent = cls ? cls.code : "";
  $("class-code").textContent = cls ? "code " + cls.code : "";
  $("trainees").replaceChildren(...(cls ? cls.trainees : []).map(t =>
    el("div", {class: "item", onclick: () => showProgress(t)}, t.name)));
  if (changed) { selected = null; $("drills").replaceChildren(); watch(); }
  loadFollowUps();
}
function onPush(msg) {
  if (msg.type === "calls" && String(msg.class_id) === String(classId)) showCalls(msg);
  else if (msg.type === "events" && msg.call.id === selected) showEvents(msg);
  else if (msg.type === "drill") showDrill(msg);
}
let knownTrainees = new Set();
function showCalls(msg) {
  const calls = msg.calls;
  const item = (c) => el("div", {class: "item" + (c.id === selected ? " selected" : ""), "data-call": c.id,
    onclick: () => select(c.id)}, `#${c.id} ${c.trainee} · ${fmtTime(c.started)} `,
    c.running ? el("span", {class: "tag match"}, "live") : el("span", {class: "tag dim"}, c.ended_reason || ""),
    !c.running && c.has_recording ? el("audio", {controls: "", preload: "none", src: `/api/calls/${c.id}/recording`}) : null);
  $("running").replaceChildren(...calls.filter(c => c.running).map(item));
  $("history").replaceChildren(...calls.filter(c => !c.running).slice(0, 30).map(item));
  lag(msg.at);
  if (selected === null) { const live = calls.find(c => c.running); if (live) select(live.id); }
  const names = new Set(calls.map(c => c.trainee));
  if ([...names].some(n => n !== "trainer" && !knownTrainees.has(n))) { knownTrainees = names; loadClasses(classId); }
}
function select(id) {
  selected = id;
  $("transcript").replaceChildren(); $("records").replaceChildren(); $("now").replaceChildren(); $("notes").replaceChildren();
  $("call-title").textContent = `Call #${id}`;
  document.querySelectorAll("[data-call]").forEach(n => n.classList.toggle("selected", Number(n.dataset.call) === id));
  send({type: "select", call_id: id});
}
function showEvents(msg) {
  if (msg.reset) { $("transcript").replaceChildren(); $("records").replaceChildren(); }
  for (const ev of msg.events) {
    const line = eventLine(ev);
    if (line) $("transcript").append(line);
    if (ev.type === "heard") showNow(ev, msg.notes);
    if (ev.type === "record" || ev.type === "escalate") $("records").append(eventLine(ev));
    if (ev.type === "hangup") loadFollowUps();
  }
  if (!msg.reset && msg.events.length) lag(msg.at);
}
function showDrill(r) {
  const line = el("div", {class: "item drill"}, `${r.trainee} · ${r.item}` + (r.steps > 1 ? ` (${r.step}/${r.steps})` : ""),
    el("b", {}, ` ${Math.round(r.total)} `), r.tier,
    r.made.length ? el("span", {class: "made"}, " ✓ " + r.made.join("、")) : null,
    r.missed.length ? el("span", {class: "missed"}, " ✗ " + r.missed.join("、")) : null,
    ...r.violations.map(v => el("span", {class: "broken"}, " ⚠ " + v.rule)));
  $("drills").prepend(line);
  lag(r.at);
  if (!knownTrainees.has(r.trainee)) { knownTrainees.add(r.trainee); loadClasses(classId); }
  if (shownTrainee && shownTrainee.id === r.trainee_id) showProgress(shownTrainee);
}
function showNow(ev, notes) {
  const box = $("now");
  box.replaceChildren(
    el("div", {}, "heard 听到: ", el("b", {}, ev.text || "")),
    el("div", {id: "current-entry"}, "entry 条目: ", el("b", {}, ev.entry || "(none)"),
      ev.score != null ? `  score ${ev.score}` : "", ev.runner_up ? `  runner-up ${ev.runner_up}` : "",
      ev.match && !ev.entry ? `  (${ev.match})` : ""),
    ...(ev.branch ? [el("div", {}, "branch 分支: ", `${ev.reply_to || ""} → ${ev.branch}`)] : []));
  const n = ev.entry && notes[ev.entry];
  $("notes").replaceChildren(...(n ? [el("li", {class: "dim"}, `${n.source} · ${n.category}`),
    ...n.notes.map(x => el("li", {}, x))] : []));
}
async function loadFollowUps() {
  const rows = await api("/api/follow-ups");
  $("follow-ups").replaceChildren(el("tr", {}, el("th", {}, "call"), el("th", {}, "trainee"), el("th", {}, "kind"), el("th", {}, "fields")),
    ...rows.map(r => el("tr", {}, el("td", {}, "#" + r.call_id), el("td", {}, r.trainee), el("td", {}, r.kind || ""),
      el("td", {}, r.fields ? JSON.stringify(r.fields) : (r.text || "")))));
}
function chart(history) {
  // Mastery over time per category: one polyline each, 0–100 up the side.
  const W = 600, H = 200, svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("width", W); svg.setAttribute("height", H);
  if (!history.length) return svg;
  const t0 = history[0].time, t1 = history[history.length - 1].time || t0 + 1;
  const byCat = {};
  history.forEach(p => (byCat[p.category] = byCat[p.category] || []).push(p));
  const colours = ["#0a5", "#c50", "#05c", "#a0a", "#aa0", "#555"];
  Object.entries(byCat).forEach(([cat, pts], i) => {
    const line = document.createElementNS(svgNS, "polyline");
    line.setAttribute("points", pts.map(p => `${(p.time - t0) / Math.max(1, t1 - t0) * (W - 20) + 10},${H - 10 - p.mastery / 100 * (H - 20)}`).join(" "));
    line.setAttribute("fill", "none"); line.setAttribute("stroke", colours[i % colours.length]); line.setAttribute("stroke-width", 3);
    const title = document.createElementNS(svgNS, "title"); title.textContent = cat; line.append(title);
    svg.append(line);
  });
  return svg;
}
async function showProgress(t) {
  shownTrainee = t;
  const p = await api(`/api/progress/${t.id}`);
  $("progress-title").textContent = `Progress 掌握度 · ${t.name}`;
  $("progress").replaceChildren(
    ...(p.categories.length ? p.categories.map(c => el("div", {}, c.category, " ",
      el("span", {class: "bar", style: `width:${c.mastery * 3}px`}), ` ${c.mastery}`)) : [el("div", {class: "dim"}, "no drill results yet")]),
    chart(p.history),
    el("div", {}, "weakest 最弱: ", p.weakest.map(w => `${w.entry_id} ${w.mastery}`).join(" · ")),
    el("table", {}, ...p.results.slice(-10).map(r => el("tr", {}, el("td", {}, r.entry_id), el("td", {}, r.score),
      el("td", {}, "✓ " + (r.points_made || []).join("，")), el("td", {}, "✗ " + (r.points_missed || []).join("，"))))));
}
$("classes").onchange = () => loadClasses($("classes").value);
$("new-class").addEventListener("submit", async (e) => {
  e.preventDefault();
  const cls = await api("/api/classes", {name: $("class-name").value});
  $("class-name").value = "";
  loadClasses(cls.id);
});
$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  try { await api("/api/login", {password: $("password").value}); location.reload(); }
  catch (err) { $("login-msg").textContent = err.message; }
});
$("logout").onclick = async () => { await api("/api/logout", {}); location.reload(); };
init();
