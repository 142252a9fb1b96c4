// Shared by the pages: JSON calls with the CSRF header (starlette-csrf's double-submit cookie).
"use strict";
function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}
async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST", body: JSON.stringify(body),
    headers: {"content-type": "application/json", "x-csrftoken": csrfToken()},
  };
  const res = await fetch(path, opts);
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) throw new Error((data && data.error) || res.statusText);
  return data;
}
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}
function fmtTime(t) { return new Date(t * 1000).toLocaleString(); }
// One line of a call's transcript, from a `chat --json` event.
function eventLine(ev) {
  const t = (typeof ev.t === "number" ? ev.t.toFixed(1) : "?") + "s";
  if (ev.type === "say") return el("div", {class: "ev bot"}, el("span", {class: "t"}, t), " 机器人: ", ev.text,
    ev.entry ? el("span", {class: "tag"}, ev.entry) : (ev.reason ? el("span", {class: "tag dim"}, ev.reason) : null));
  if (ev.type === "heard") {
    const how = [];
    if (ev.entry) how.push(el("span", {class: "tag match"}, ev.entry + (ev.score != null ? " " + ev.score : "")));
    if (ev.runner_up) how.push(el("span", {class: "tag dim"}, "runner-up " + ev.runner_up));
    if (ev.branch) how.push(el("span", {class: "tag branch"}, (ev.reply_to || "") + " → " + ev.branch));
    if (!ev.entry && !ev.branch && ev.match) how.push(el("span", {class: "tag dim"}, ev.match));
    return el("div", {class: "ev customer"}, el("span", {class: "t"}, t), " 客户: ", ev.text || "(…)", ...how);
  }
  if (ev.type === "record" || ev.type === "escalate")
    return el("div", {class: "ev record"}, el("span", {class: "t"}, t), " ", ev.type === "record" ? "记录 " : "升级 ",
      ev.kind || ev.reason || "", ev.fields ? " " + JSON.stringify(ev.fields) : "");
  if (ev.type === "hangup") return el("div", {class: "ev end"}, el("span", {class: "t"}, t), " 挂机 ", ev.reason || "");
  if (ev.type === "cut") return el("div", {class: "ev dim cut"}, el("span", {class: "t"}, t),
    ` ✂ 客户打断 (the customer cut the bot short after ${ev.played_s} s)`);
  if (ev.type === "silence") return el("div", {class: "ev dim"}, el("span", {class: "t"}, t), " (silence " + ev.seconds + " s)");
  return null;
}
