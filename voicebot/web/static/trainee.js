// The trainee's page: a call over /ws/call (microphone through an AudioWorklet at 16 kHz, or typed
// lines), the bot's voice played as it arrives, the trainee's own calls and progress.
"use strict";
const RATE = 16000;
let ws = null, ctx = null, mic = null, node = null, playAt = 0;
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
  window.botLines++;
}
// Lines of the bot's voice received, and seconds of it still to play (the line is deaf meanwhile:
// half duplex).
window.botLines = 0;
window.botSpeaking = () => (ctx && playAt > 0 ? Math.max(0, playAt - ctx.currentTime) : 0);
function inCall(on) {
  $("hangup").disabled = !on; $("line").disabled = !on; $("send").disabled = !on;
  $("start-mic").disabled = on; $("start-text").disabled = on;
}
async function start(withMic) {
  ctx = new AudioContext({sampleRate: RATE});
  if (withMic) {
    try {
      mic = await navigator.mediaDevices.getUserMedia({audio: {channelCount: 1, echoCancellation: true,
        noiseSuppression: false, autoGainControl: false}});   // the server measures level and SNR itself
    } catch (e) { $("status").textContent = "no microphone (" + e.message + "): use the typed call"; return; }
    await ctx.audioWorklet.addModule("/static/mic-worklet.js");
    node = new AudioWorkletNode(ctx, "mic-pcm");
    ctx.createMediaStreamSource(mic).connect(node);
  }
  $("transcript").replaceChildren();
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/call");
  ws.binaryType = "arraybuffer";
  ws.onopen = () => { inCall(true); $("status").textContent = withMic ? "in a call: speak" : "in a typed call"; };
  if (node) node.port.onmessage = (e) => { if (ws && ws.readyState === 1) ws.send(e.data); };
  ws.onmessage = (e) => {
    if (typeof e.data !== "string") { playPcm(e.data); return; }
    const ev = JSON.parse(e.data);
    const line = eventLine(ev);
    if (line) { $("transcript").append(line); line.scrollIntoView(); }
  };
  ws.onclose = () => { stop(); $("status").textContent = "call ended"; refresh(); };
}
function stop() {
  inCall(false);
  if (mic) mic.getTracks().forEach(t => t.stop());
  mic = null; node = null; ws = null;
}
$("start-mic").onclick = () => start(true);
$("start-text").onclick = () => start(false);
$("hangup").onclick = () => { if (ws) ws.send(JSON.stringify({type: "hangup"})); };
$("say").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("line").value.trim();
  if (text && ws) ws.send(JSON.stringify({type: "text", text}));
  $("line").value = "";
});
$("logout").onclick = async () => { await api("/api/logout", {}); location.href = "/"; };
init();
