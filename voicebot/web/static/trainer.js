// The trainer's live view: the class's running calls; for the selected one the transcript as it
// happens, the matched entry with score and runner-up, the branch, records and escalations, and the
// book's notes (注意/强调/思路) for the current entry; call history with recordings; follow-ups;
// each trainee's mastery per category, a chart over time, the weakest entries and drill results.
"use strict";
const $ = (id) => document.getElementById(id);
let classId = null, selected = null, seen = 0, callTimer = null;

async function init() {
  const me = await api("/api/me");
  if (me.role !== "trainer") { $("login-view").hidden = false; return; }
  $("room").hidden = false; $("logout").hidden = false;
  await loadClasses();
  setInterval(pollCalls, 1000);
  pollCalls();
}
async function loadClasses(pick) {
  const classes = await api("/api/classes");
  $("classes").replaceChildren(...classes.map(c => el("option", {value: c.id}, `${c.name} (${c.code})`)));
  if (pick) $("classes").value = pick;
  else if (classes.length) $("classes").value = classes[classes.length - 1].id;
  classId = $("classes").value || null;
  const cls = classes.find(c => String(c.id) === String(classId));
  $("code").textContent = cls ? cls.code : "";
  $("class-code").textContent = cls ? "code " + cls.code : "";
  $("trainees").replaceChildren(...(cls ? cls.trainees : []).map(t =>
    el("div", {class: "item", onclick: () => showProgress(t)}, t.name)));
  loadFollowUps();
}
async function pollCalls() {
  if (!classId) return;
  const calls = await api(`/api/calls?class_id=${classId}`);
  const item = (c) => el("div", {class: "item" + (c.id === selected ? " selected" : ""), "data-call": c.id,
    onclick: () => select(c.id)}, `#${c.id} ${c.trainee} · ${fmtTime(c.started)} `,
    c.running ? el("span", {class: "tag match"}, "live") : el("span", {class: "tag dim"}, c.ended_reason || ""),
    !c.running && c.has_recording ? el("audio", {controls: "", preload: "none", src: `/api/calls/${c.id}/recording`}) : null);
  $("running").replaceChildren(...calls.filter(c => c.running).map(item));
  $("history").replaceChildren(...calls.filter(c => !c.running).slice(0, 30).map(item));
  if (selected === null) { const live = calls.find(c => c.running); if (live) select(live.id); }
}
function select(id) {
  selected = id; seen = 0;
  $("transcript").replaceChildren(); $("records").replaceChildren(); $("now").replaceChildren(); $("notes").replaceChildren();
  $("call-title").textContent = `Call #${id}`;
  if (callTimer) clearInterval(callTimer);
  callTimer = setInterval(pollEvents, 700);
  pollEvents();
}
async function pollEvents() {
  if (selected === null) return;
  const id = selected;
  const data = await api(`/api/calls/${id}/events?since=${seen}`);
  if (id !== selected) return;
  seen = data.count;
  for (const ev of data.events) {
    const line = eventLine(ev);
    if (line) $("transcript").append(line);
    if (ev.type === "heard") showNow(ev, data.notes);
    if (ev.type === "record" || ev.type === "escalate") $("records").append(eventLine(ev));
  }
  if (!data.call.running) { clearInterval(callTimer); callTimer = null; }
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
