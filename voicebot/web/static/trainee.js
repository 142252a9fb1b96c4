// The trainee's page: a call over /ws/call or a drill over /ws/drill (microphone through an
// AudioWorklet at 16 kHz, or typed), the bot's voice played as it arrives, the trainee's own calls
// and progress.
"use strict";
const RATE = 16000;
let ws = null, ctx = null, mic = null, node = null, playAt = 0, sources = [];
const $ = (id) => document.getElementById(id);

async function init() {
  const me = await api("/api/me");
  if (me.role !== "trainee") { location.href = "/"; return; }
  $("who").textContent = `${me.name} · ${me.class} (${me.code})`;
  window.traineeId = me.id;
  refresh();
}
async function refresh() {
  const calls = await api("/api/calls");
  $("calls").replaceChildren(...calls.map(c => el("div", {class: "item"},
    `#${c.id} ${fmtTime(c.started)} ${c.running ? "(running)" : c.ended_reason || ""} `,
    c.entries.length ? el("span", {class: "tag"}, c.entries.join(", ")) : null,
    c.has_recording && !c.running ? el("audio", {controls: "", preload: "none", src: `/api/calls/${c.id}/recording`}) : null)));
  const p = await api(`/api/progress/${window.traineeId}`);
  $("progress").replaceChildren(...(p.categories.length ? p.categories.map(c => el("div", {},
    c.category, " ", el("span", {class: "bar", style: `width:${c.mastery * 2}px`}), " ", c.mastery)) :
    [el("span", {class: "dim"}, "no drill results yet")]));
}

// -- audio both ways (shared by calls and drills)

function playPcm(buf) {
  if (!ctx) ctx = new AudioContext({sampleRate: RATE});
  const pcm = new Int16Array(buf);
  const audio = ctx.createBuffer(1, pcm.length, RATE);
  const ch = audio.getChannelData(0);
  for (let i = 0; i < pcm.length; i++) ch[i] = pcm[i] / 32768;
  const src = ctx.createBufferSource();
  src.buffer = audio; src.connect(ctx.destination);
  playAt = Math.max(playAt, ctx.currentTime);
  src.start(playAt); playAt += audio.duration;
  sources.push(src);
  src.onended = () => { sources = sources.filter(s => s !== src); };
  window.botLines++;
}
// Barge-in: the server heard the trainee over the bot and sent `cut`: stop the voice at once and drop
// whatever of it is still queued.
function flushPlayback() {
  for (const s of sources) { try { s.stop(); } catch (e) { /* not started yet */ } }
  sources = [];
  playAt = ctx ? ctx.currentTime : 0;
  window.cuts++;
}
// Lines of the bot's voice received, cuts obeyed, and seconds of voice still to play.
window.botLines = 0;
window.cuts = 0;
window.botSpeaking = () => (ctx && playAt > 0 ? Math.max(0, playAt - ctx.currentTime) : 0);

async function openSocket(path, withMic, onEvent, onClose) {
  ctx = new AudioContext({sampleRate: RATE});
  playAt = 0; sources = [];
  if (withMic) {
    try {
      // echoCancellation: the bot's voice from the speakers is taken out before it reaches the server
      // (the server's echo gate is the second line of defence); the server measures level and SNR itself.
      mic = await navigator.mediaDevices.getUserMedia({audio: {channelCount: 1, echoCancellation: true,
        noiseSuppression: false, autoGainControl: false}});
    } catch (e) { return "no microphone (" + e.message + "): answer typed"; }
    await ctx.audioWorklet.addModule("/static/mic-worklet.js");
    node = new AudioWorkletNode(ctx, "mic-pcm");
    ctx.createMediaStreamSource(mic).connect(node);
  }
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path);
  ws.binaryType = "arraybuffer";
  // Full duplex: the microphone keeps streaming while the bot speaks, so the trainee can cut in.
  if (node) node.port.onmessage = (e) => { if (ws && ws.readyState === 1) ws.send(e.data); };
  ws.onmessage = (e) => {
    if (typeof e.data !== "string") { playPcm(e.data); return; }
    const ev = JSON.parse(e.data);
    if (ev.type === "cut") flushPlayback();
    onEvent(ev);
  };
  ws.onclose = () => { closeAudio(); onClose(); };
  return null;
}
function closeAudio() {
  if (mic) mic.getTracks().forEach(t => t.stop());
  mic = null; node = null; ws = null;
}
function sendJson(obj) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(obj)); }

// -- a call

function inCall(on) {
  $("hangup").disabled = !on; $("line").disabled = !on; $("send").disabled = !on;
  $("start-mic").disabled = on; $("start-text").disabled = on;
  $("drill-mic").disabled = on; $("drill-text").disabled = on;
}
async function startCall(withMic) {
  $("transcript").replaceChildren();
  const problem = await openSocket("/ws/call", withMic, (ev) => {
    const line = eventLine(ev);
    if (line) { $("transcript").append(line); line.scrollIntoView(); }
  }, () => { inCall(false); $("status").textContent = "call ended"; refresh(); });
  if (problem) { $("status").textContent = problem; return; }
  inCall(true);
  $("status").textContent = withMic ? "in a call: speak (you may cut the bot short)" : "in a typed call";
}
$("start-mic").onclick = () => startCall(true);
$("start-text").onclick = () => startCall(false);
$("hangup").onclick = () => sendJson({type: "hangup"});
$("say").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("line").value.trim();
  if (text) sendJson({type: "text", text});
  $("line").value = "";
});

// -- a drill

function inDrill(on, withMic) {
  $("drill-stop").disabled = !on; $("answer-line").disabled = !on; $("answer-send").disabled = !on;
  $("answer-done").disabled = !on || !withMic;
  $("drill-mic").disabled = on; $("drill-text").disabled = on;
  $("start-mic").disabled = on; $("start-text").disabled = on;
}
function scoreCard(r) {
  const card = el("div", {class: "card score"},
    el("div", {}, el("span", {class: "total"}, r.no_answer ? "0" : String(Math.round(r.total))), ` ${r.tier} · `,
      r.item, r.steps > 1 ? ` (${r.step}/${r.steps})` : "", el("span", {class: "dim"}, " " + (r.source || ""))),
    el("div", {}, "you 你说: ", r.answer || "(nothing heard 没有听到)"));
  if (r.made.length) card.append(el("div", {class: "made"}, "✓ made 说到: " + r.made.join("、")));
  if (r.missed.length) card.append(el("div", {class: "missed"}, "✗ missed 漏掉: " + r.missed.join("、")));
  for (const v of r.violations) card.append(el("div", {class: "broken"}, "⚠ " + v.message,
    v.book && !v.message.includes(v.book) ? el("div", {class: "dim"}, "book 话术: " + v.book) : null));
  const [answer, ...replies] = r.book_answer;
  card.append(el("div", {class: "book"}, "标准答案: " + (answer || ""),
    ...replies.map(line => el("div", {class: "dim reply"}, line))));
  return card;
}
async function startDrill(withMic) {
  const kind = $("drill-kind").value;
  const q = new URLSearchParams({count: $("drill-count").value || "5"});
  if (kind !== "entry") q.set(kind, "1");
  $("results").replaceChildren(); $("question").replaceChildren();
  const problem = await openSocket("/ws/drill?" + q, withMic, (ev) => {
    if (ev.type === "question") {
      $("question").replaceChildren(
        el("div", {class: "dim"}, `${ev.n}/${ev.of} · ${ev.category} · ${ev.source || ev.entry}` +
          (ev.steps > 1 ? ` · (${ev.step}/${ev.steps}) ${ev.title}` : "")),
        el("div", {class: "question"}, "客户: ", ev.label || "", ev.customer || ""));
      $("drill-status").textContent = withMic ? "answer now, by voice (or type)" : "type your answer";
      $("answer-line").focus();
    } else if (ev.type === "score") {
      $("results").prepend(scoreCard(ev));
      $("drill-status").textContent = "scored; the next question comes";
    } else if (ev.type === "exchange") {
      $("results").prepend(el("div", {class: "card"}, `${ev.item}: ${ev.steps} turns, mean ${ev.mean} (${ev.tier})`));
    } else if (ev.type === "summary") {
      $("drill-status").textContent = `${ev.answers} answer${ev.answers === 1 ? "" : "s"}, mean ${ev.mean}` + (ev.tier ? ` (${ev.tier})` : "");
    } else if (ev.type === "error") {
      $("drill-status").textContent = ev.message;
    }
  }, () => { inDrill(false, false); refresh(); });
  if (problem) { $("drill-status").textContent = problem; return; }
  inDrill(true, withMic);
  $("drill-status").textContent = "the customer speaks…";
}
$("drill-mic").onclick = () => startDrill(true);
$("drill-text").onclick = () => startDrill(false);
$("drill-stop").onclick = () => sendJson({type: "hangup"});
$("answer-done").onclick = () => sendJson({type: "done"});
$("answer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("answer-line").value.trim();
  if (text) sendJson({type: "text", text});
  $("answer-line").value = "";
});

// -- tabs

function tab(name) {
  $("call-view").hidden = name !== "call"; $("drill-view").hidden = name !== "drill";
  $("tab-call").classList.toggle("on", name === "call"); $("tab-drill").classList.toggle("on", name === "drill");
}
$("tab-call").onclick = () => tab("call");
$("tab-drill").onclick = () => tab("drill");
$("logout").onclick = async () => { await api("/api/logout", {}); location.href = "/"; };
init();
