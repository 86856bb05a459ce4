/*! Switchboard visitor chat widget. Embed with
 *   <script src="https://RELAY/widget.js" data-channel="CHANNEL" async></script>
 * optional: data-lang="en|sv" (default: the page's <html lang>), data-color="#24527a",
 * data-relays="https://relay1.example, https://relay2.example" (a cluster's nodes, tried in turn).
 * It speaks protocol v1 (backend/protocol) over the relay's websocket, beside this file at /ws.
 * Plain ES2020, no dependencies, no build step. Everything lives in one shadow root; the only
 * global is window.Switchboard {open(), close(), version}. */
(() => {
  "use strict";
  const VERSION = "1.0.0";
  const W = window, D = document, MARK = Symbol.for("switchboard.widget");
  if (W.Switchboard && W.Switchboard[MARK]) return; // loaded twice

  let me = D.currentScript;
  if (!me || !me.getAttribute("data-channel")) me = D.querySelector('script[src*="widget.js"][data-channel]');
  if (!me) return;
  const attr = (n) => me.getAttribute("data-" + n) || "";
  const channel = attr("channel");
  const src = new URL(me.src, location.href);
  const wsOf = (u, dir) => (u.protocol === "https:" ? "wss://" : "ws://") + u.host + dir + "ws";
  // data-relays: the nodes of a cluster (base URLs, comma-separated), tried in turn from
  // the last that answered; by default the relay that served this script.
  // (Loops rather than map and filter: a page may have replaced Array's methods.)
  const wsURLs = [];
  for (const u of attr("relays").split(/[\s,]+/)) {
    try { if (u) { const r = new URL(u, location.href); wsURLs.push(wsOf(r, r.pathname.replace(/\/?$/, "/"))); } } catch (e) { /* not a URL */ }
  }
  if (!wsURLs.length) wsURLs.push(wsOf(src, src.pathname.replace(/[^/]*$/, "")));
  let at = 0;
  const K = "switchboard:" + src.origin + ":" + channel; // storage key: one chat per relay and channel
  const sv = /^sv/i.test(attr("lang") || D.documentElement.lang || "");
  const color = /^#[0-9a-f]{3}([0-9a-f]{3})?$/i.test(attr("color")) ? attr("color") : "#24527a";

  const L = sv ? {
    open: "Öppna chatten", openNew: "Öppna chatten (nytt meddelande)", close: "Minimera chatten", title: "Chatta med oss",
    hello: "Hej! Berätta vem du är och vad du behöver hjälp med, så kopplar vi dig till någon som kan hjälpa dig.",
    offline: "Vi kan inte chatta just nu. Lämna ett meddelande så återkommer vi via e-post.",
    closed: "Vi är inte tillgängliga just nu. Välkommen tillbaka senare.",
    name: "Namn", email: "E-post", question: "Din fråga", start: "Starta chatten", submit: "Skicka meddelandet",
    errName: "Skriv ditt namn.", errEmail: "Skriv en giltig e-postadress.", errQuestion: "Skriv din fråga.",
    thanks: "Tack, ditt ärendenummer är {n}.", thanksMore: "Svaret kommer med e-post till {e}.",
    queue: "Du är nummer {n} i kön, beräknad väntetid cirka {m} min",
    here: "Vi finns här för att hjälpa dig", leave: "Lämna ett meddelande", waiting: "Väntar på svar…", with: "Du chattar med {n}", ended: "Chatten är avslutad.",
    typing: "{n} skriver…", write: "Skriv ett meddelande", send: "Skicka", end: "Avsluta", endQ: "Vill du avsluta chatten?",
    cancel: "Avbryt", transcript: "Ladda ned konversationen", again: "Starta en ny chatt",
    na: "Chatten är inte tillgänglig på den här sidan.", connecting: "Ansluter…", reconnecting: "Anslutningen bröts. Ansluter igen…",
    rate: "Du skickar meddelanden för snabbt; vi försöker igen.", tooLong: "Meddelandet är för långt. Korta ned det.",
    failed: "Något gick fel. Försök igen.", busy: "För många chattar har startats från ditt nätverk. Vänta en minut och försök igen.",
    notSent: "Inte skickat", sending: "skickas", you: "Du", log: "Konversation",
    tr: "Chattkonversation", newFrom: "Nytt meddelande från {n}: {x}",
    attach: "Bifoga en fil", uploading: "Laddar upp {n}", upCancel: "Avbryt uppladdningen", file: "Fil", full: "Öppna i full storlek: {n}",
    fType: "Den typen av fil tas inte emot här.", fBig: "Filen är för stor (högst {m}).", fOff: "Den här chatten tar inte emot filer.",
    fGone: "Filen finns inte längre.", fAgain: "Uppladdningen gick inte igenom. Försök igen.",
  } : {
    open: "Open chat", openNew: "Open chat (new message)", close: "Minimise chat", title: "Chat with us",
    hello: "Hi! Tell us who you are and what you need, and we will connect you with someone who can help.",
    offline: "We cannot chat right now. Leave a message and we will get back to you by e-mail.",
    closed: "We are not available right now. Please come back later.",
    name: "Name", email: "E-mail", question: "Your question", start: "Start chat", submit: "Send message",
    errName: "Please enter your name.", errEmail: "Please enter a valid e-mail address.", errQuestion: "Please write your question.",
    thanks: "Thank you, your request number is {n}.", thanksMore: "The answer will come by e-mail to {e}.",
    queue: "You are number {n} in the queue, estimated wait about {m} min",
    here: "We are here to help", leave: "Leave us a message", waiting: "Waiting for someone to answer…", with: "You are chatting with {n}", ended: "The chat has ended.",
    typing: "{n} is typing…", write: "Write a message", send: "Send", end: "End chat", endQ: "End this chat?",
    cancel: "Cancel", transcript: "Download transcript", again: "Start a new chat",
    na: "Chat is not available on this page.", connecting: "Connecting…", reconnecting: "Connection lost. Reconnecting…",
    rate: "You are sending messages too fast; we will retry.", tooLong: "Your message is too long. Please shorten it.",
    failed: "Something went wrong. Please try again.", busy: "Too many chats were started from your network. Please wait a minute and try again.",
    notSent: "Not sent", sending: "sending", you: "You", log: "Conversation",
    tr: "Chat transcript", newFrom: "New message from {n}: {x}",
    attach: "Attach a file", uploading: "Uploading {n}", upCancel: "Cancel the upload", file: "File", full: "Open full size: {n}",
    fType: "That type of file is not accepted here.", fBig: "The file is too large (at most {m}).", fOff: "This chat does not take files.",
    fGone: "The file is no longer available.", fAgain: "The upload did not go through. Please try again.",
  };
  // System lines come with a code, said here in the widget's language (the relay's text is the fallback).
  const N = sv ? {
    joined: "{n} har anslutit till chatten.", ended_agent: "{n} avslutade chatten.", visitor_left: "Du lämnade chatten.",
    left_queue: "Du lämnade kön.", idle_closed: "Chatten stängdes efter en stund utan meddelanden.",
    requeued: "{n} är inte längre tillgänglig; du är tillbaka i kön.",
  } : {
    joined: "{n} has joined the chat.", ended_agent: "{n} ended the chat.", visitor_left: "You left the chat.",
    left_queue: "You left the queue.", idle_closed: "The chat was closed after a while without messages.",
    requeued: "{n} is no longer available; you are back in the queue.",
  };
  const t = (k, v) => {
    let s = L[k];
    if (v) for (const x of Object.keys(v)) s = s.replace("{" + x + "}", () => v[x]);
    return s;
  };

  // Every rule is inside the shadow root. :host rules marked !important beat the page's
  // !important rules (the inner context wins for important declarations); lengths are px,
  // never rem, so the page's root font size changes nothing.
  const CSS = `
:host{all:initial!important;display:block!important;position:fixed!important;right:0!important;bottom:0!important;
 width:0!important;height:0!important;margin:0!important;padding:0!important;border:0!important;z-index:2147483000!important;
 visibility:visible!important;opacity:1!important;transform:none!important;filter:none!important;overflow:visible!important}
*{box-sizing:border-box;margin:0;padding:0}
[hidden]{display:none!important}
.launch,.panel{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2933;
 text-align:left;letter-spacing:normal;text-transform:none;-webkit-font-smoothing:antialiased}
button,input,textarea,a{font:inherit;color:inherit}
button{cursor:pointer;border:0;background:none}
:focus-visible{outline:2px solid ${color};outline-offset:2px}
.head :focus-visible{outline-color:#fff}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.launch{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;background:${color};color:#fff;
 display:flex;align-items:center;justify-content:center;box-shadow:0 4px 14px rgba(16,24,40,.22)}
.launch:hover{filter:brightness(1.1)}
.launch svg{width:26px;height:26px}
.launch .i2,.launch[aria-expanded=true] .i1{display:none}
.launch[aria-expanded=true] .i2{display:block}
.dot{position:absolute;top:2px;right:2px;width:14px;height:14px;border-radius:50%;background:#d64545;border:2px solid #fff}
.panel{position:fixed;right:20px;bottom:88px;width:370px;height:600px;max-height:calc(100vh - 108px);background:#fff;
 border-radius:14px;box-shadow:0 12px 40px rgba(16,24,40,.2);border:1px solid rgba(16,24,40,.08);display:flex;
 flex-direction:column;overflow:hidden}
@media (prefers-reduced-motion:no-preference){.panel{animation:in .16s ease-out}}
@keyframes in{from{opacity:0;transform:translateY(8px)}}
.head{background:${color};color:#fff;padding:14px 10px 14px 18px;display:flex;align-items:center;gap:6px;flex:none}
.hd{flex:1;min-width:0}
.ttl{font-size:16px;font-weight:600}
.sub{font-size:13px;opacity:.88;min-height:18px}
.head button{color:#fff;border-radius:8px;padding:6px 10px;font-size:13px}
.head button:hover{background:rgba(255,255,255,.16)}
#x{padding:6px;display:flex}
#x svg{width:22px;height:22px}
.bar{padding:9px 18px;font-size:13.5px;flex:none;border-bottom:1px solid #e4e7eb}
.conn,.warn{background:#fff8e6;color:#6b4d00}
.err{background:#fdeeee;color:#9b1c1c}
.confirm{display:flex;align-items:center;gap:8px;background:#f5f7fa}
.confirm span{flex:1}
.btn{display:inline-block;border-radius:8px;padding:8px 14px;font-weight:600;font-size:14px;text-decoration:none;
 border:1px solid #cbd2d9;background:#fff;color:#1f2933;text-align:center}
.pri{background:${color};border-color:${color};color:#fff}
.body{flex:1;overflow-y:auto;padding:18px}
.intro{color:#3e4c59;margin-bottom:6px}
label{display:block;font-size:13px;font-weight:600;color:#3e4c59;margin:14px 0 5px}
input,textarea{display:block;width:100%;border:1px solid #7b8794;border-radius:8px;padding:9px 11px;background:#fff;
 outline:none;resize:none}
input:focus,textarea:focus{border-color:${color};box-shadow:0 0 0 3px color-mix(in srgb,${color} 18%,transparent)}
[aria-invalid=true]{border-color:#c53030}
.fe{color:#b42318;font-size:13px;margin-top:4px}
.req{color:#b42318}
.form .pri{width:100%;margin-top:18px;padding:11px}
.form .pri[aria-disabled=true]{opacity:.6;cursor:default}
.msgc{text-align:center;color:#3e4c59;padding-top:40px}
.msgc p+p{margin-top:8px}
.big{font-size:17px;font-weight:600;color:#1f2933}
.chat{flex:1;display:flex;flex-direction:column;min-height:0}
.pos{background:#f5f7fa;color:#3e4c59}
.log{flex:1;overflow-y:auto;padding:14px 14px 6px;display:flex;flex-direction:column;gap:6px}
.m{display:flex;flex-direction:column;max-width:82%}
.b{padding:8px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere}
.b a{text-decoration:underline}
.v{align-self:flex-end;align-items:flex-end}
.v .b{background:${color};color:#fff;border-bottom-right-radius:4px}
.a{align-self:flex-start}
.a .b{background:#eef1f4;border-bottom-left-radius:4px}
.who{font-size:12px;color:#616e7c;margin:6px 0 2px 4px}
.a.c .who{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.s{align-self:center;max-width:90%;font-size:12.5px;color:#616e7c;text-align:center;margin:4px 0}
.s .b{padding:0}
.p{opacity:.85}
.x .b{background:#fff;color:#9b1c1c;border:1px solid #e6a5a5}
.ns{font-size:12px;color:#b42318;margin-top:2px}
.typ{font-size:12.5px;color:#616e7c;font-style:italic;min-height:20px;padding:0 18px 2px}
.done{border-top:1px solid #e4e7eb;padding:14px 18px;text-align:center;display:flex;flex-direction:column;gap:8px;flex:none}
.cmp{display:flex;align-items:flex-end;gap:8px;border-top:1px solid #7b8794;padding:10px 10px 10px 14px;flex:none}
.cmp textarea{border:0;padding:8px 0;max-height:120px;box-shadow:none}
.snd{width:40px;height:40px;border-radius:50%;background:${color};color:#fff;display:flex;align-items:center;
 justify-content:center;flex:none}
.snd svg{width:20px;height:20px}
.att{width:40px;height:40px;border-radius:50%;display:flex;align-items:center;justify-content:center;flex:none;color:#3e4c59}
.att:hover{background:#eef1f4}
.att svg{width:22px;height:22px}
.up{display:flex;align-items:center;gap:8px;background:#f5f7fa}
.up span{flex:1;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.up progress{width:90px;accent-color:${color}}
.th{display:block;border-radius:10px;overflow:hidden;line-height:0}
.th img{display:block;max-width:220px;max-height:180px;min-width:40px;min-height:30px;background:#eef1f4}
.fl{display:flex;flex-direction:column;gap:2px;padding:8px 12px;border-radius:12px;border:1px solid #cbd2d9;background:#fff;color:#1f2933;text-decoration:none}
.fl b{text-decoration:underline;overflow-wrap:anywhere}
.fl small{color:#52606d;font-size:12px}
.drop .log{outline:2px dashed ${color};outline-offset:-6px}
@media (max-width:480px){
 .panel{left:0;top:0;right:0;bottom:0;width:auto;height:auto;max-height:none;border-radius:0;border:0}
 .launch[aria-expanded=true]{display:none}
 input,textarea{font-size:16px}
}`;

  const chev = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 9l6 6 6-6" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/></svg>';
  const HTML = `
<button id="l" class="launch" type="button" aria-expanded="false" aria-controls="p" aria-label="${t("open")}">
<svg class="i1" viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2h-9.5L5 22v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>
<span class="i2">${chev}</span><span id="dot" class="dot" hidden></span></button>
<div id="say" class="vh" role="status"></div>
<div id="p" class="panel" role="dialog" aria-labelledby="ttl" hidden>
<div class="head"><div class="hd"><div id="ttl" class="ttl"></div><div id="sub" class="sub"></div></div>
<button id="end" type="button" hidden>${t("end")}</button>
<button id="x" type="button" aria-label="${t("close")}">${chev}</button></div>
<div id="cf" class="bar confirm" role="group" aria-labelledby="cfq" hidden><span id="cfq">${t("endQ")}</span>
<button id="cy" class="btn pri" type="button" aria-describedby="cfq">${t("end")}</button><button id="cn" class="btn" type="button" aria-describedby="cfq">${t("cancel")}</button></div>
<div id="cs" class="bar conn" role="status" hidden></div>
<div id="nt" class="bar" role="alert" hidden></div>
<div id="ld" class="body msgc">${t("connecting")}</div>
<div id="na" class="body msgc" hidden><p class="big" id="nat" tabindex="-1"></p></div>
<form id="f" class="body form" novalidate hidden>
<p id="fi" class="intro"></p>
<label for="fn">${t("name")} <span class="req" aria-hidden="true">*</span></label><input id="fn" name="name" autocomplete="name" maxlength="100" aria-required="true" aria-describedby="fne"><div id="fne" class="fe"></div>
<label for="fm">${t("email")} <span class="req" aria-hidden="true">*</span></label><input id="fm" name="email" type="email" autocomplete="email" maxlength="254" aria-required="true" aria-describedby="fme"><div id="fme" class="fe"></div>
<label for="fq">${t("question")} <span class="req" aria-hidden="true">*</span></label><textarea id="fq" name="question" rows="4" maxlength="2000" aria-required="true" aria-describedby="fqe"></textarea><div id="fqe" class="fe"></div>
<div id="fx" class="fe" role="alert"></div>
<button id="fs" class="btn pri" type="submit"></button></form>
<div id="ty" class="body msgc" hidden><p class="big" id="tyn" tabindex="-1"></p><p id="tym"></p></div>
<div id="chat" class="chat" hidden>
<div id="pos" class="bar pos" hidden></div>
<div id="log" class="log" role="log" aria-live="polite" aria-label="${t("log")}" tabindex="0"></div>
<div id="typ" class="typ" aria-live="polite"></div>
<div id="up" class="bar up" hidden><span id="upn"></span><progress id="upp" max="100" value="0" aria-labelledby="upn"></progress>
<button id="upc" class="btn" type="button">${t("cancel")}</button></div>
<div id="done" class="done" hidden><a id="dl" class="btn" href="#">${t("transcript")}</a>
<button id="again" class="btn pri" type="button">${t("again")}</button></div>
<form id="cmp" class="cmp"><button id="att" class="att" type="button" aria-label="${t("attach")}"><svg viewBox="0 0 24 24" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" d="M20 11.5 12.2 19.3a5 5 0 0 1-7.1-7.1l8-8a3.4 3.4 0 0 1 4.8 4.8l-8 8a1.7 1.7 0 0 1-2.4-2.4l7.3-7.3"/></svg></button>
<input id="fin" type="file" hidden tabindex="-1" aria-hidden="true"><label for="msg" class="vh">${t("write")}</label>
<textarea id="msg" rows="1" placeholder="${t("write")}"></textarea>
<button class="snd" type="submit" aria-label="${t("send")}"><svg viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M3.4 20.4 21 12 3.4 3.6v6.5L16 12 3.4 13.9z"/></svg></button></form>
</div></div>`;

  // ---- storage: the chat (token, session, lines up to seq q) and the outbox of unsent lines
  let ls = null;
  try { ls = W.localStorage; ls.getItem(K); } catch (e) { ls = null; }
  const get = (k) => { try { return JSON.parse(ls.getItem(k)); } catch (e) { return null; } };
  const put = (k, v) => { try { if (v == null) ls.removeItem(k); else ls.setItem(k, JSON.stringify(v)); } catch (e) { /* full or blocked */ } };
  // Objects, never arrays, go through JSON: pages that patch Array.prototype.toJSON break arrays.
  const OUT = K + ":out";
  const phone = W.matchMedia("(max-width:480px)"); // the panel's full-screen layout, below

  // ---- state
  let tok = null, sid = null, st = "", agent = "", last = 0, lines = {}, pend = {}, chan = {};
  let isOpen = false, view = "", mode = "chat", root, $;
  let ws = null, online = false, ever = false, tries = 0, timer = 0, nid = 0, reqs = {}, pingWait = false;
  let lastTyping = 0, typT = 0, ntT = 0, blobURL = "", booted = false, reopen = false, base = "", xhr = null;
  // dozing: the relay closed a connection that started no chat (close 4003); we
  // connect again when the visitor comes back. after: a form sent meanwhile.
  let dozing = false, after = null;
  // said: the header state last announced; lastPos: the queue position last shown.
  let said = "", lastPos = 0, sayT = 0, sayQ = [];

  function load() {
    const s = get(K);
    if (!s || !s.t) return false;
    tok = s.t; sid = s.s; st = s.st || "queued"; agent = s.a || ""; reopen = !!s.o;
    if (s.l && s.q) { lines = s.l; last = s.q; }
    const o = get(OUT) || {};
    for (const c of Object.keys(o)) pend[c] = typeof o[c] === "string" ? { x: o[c] } : { x: o[c].x || "", f: o[c].f };
    return true;
  }
  function save() {
    if (!tok) return;
    const s = { t: tok, s: sid, st, a: agent, o: isOpen ? 1 : 0, q: last, l: lines };
    let j = JSON.stringify(s);
    if (j.length > 400000) { s.q = 0; s.l = {}; } // too long to keep: replay it all on the next load
    put(K, s);
  }
  // outbox keeps what is not yet acknowledged across a reload: a message's text, or
  // { x, f } for one that carries an uploaded file.
  function outbox(c, x) {
    const o = get(OUT) || {};
    if (x == null) delete o[c]; else o[c] = x;
    put(OUT, Object.keys(o).length ? o : null);
  }
  function forget() {
    put(K, null); put(OUT, null);
    tok = sid = null; st = agent = said = ""; last = lastPos = 0; lines = {}; pend = {};
    $("log").textContent = ""; $("typ").textContent = ""; $("pos").hidden = true;
  }

  // ---- connection: hello, requests, reconnect with backoff and jitter
  function connect() {
    if (ws) return;
    clearTimeout(timer);
    let s;
    let opened = false;
    const u = wsURLs[at % wsURLs.length];
    try { s = new WebSocket(u); } catch (e) { at++; return retry(); }
    base = u.replace(/^ws/, "http").replace(/\/ws$/, ""); // the same relay serves /files/
    ws = s;
    s.onopen = () => { opened = true; hello(); };
    s.onmessage = (e) => frame(e.data);
    s.onclose = (e) => { if (!opened) at++; if (ws === s) lost(e && e.code); };
  }
  function kill() {
    if (!ws) return;
    const s = ws;
    ws = null; online = false;
    s.onclose = s.onmessage = s.onopen = null;
    try { s.close(); } catch (e) { /* closed */ }
    flushReqs();
  }
  function lost(code) {
    ws = null; online = false;
    if (code === 4003 && !tok) { dozing = true; flushReqs(); return; } // idle without a chat: no retry loop
    retry(); flushReqs();
  }
  function wake() { if (dozing) { dozing = false; tries = 0; connect(); } }
  function flushReqs() {
    const r = reqs;
    reqs = {};
    for (const id of Object.keys(r)) { clearTimeout(r[id].t); r[id].cb(null, { code: "offline" }); }
  }
  function retry() {
    tries++;
    // A refused handshake (origin not allowed) looks like any failed connection to a
    // page; before the first success and with no chat to resume, call it unavailable.
    const refused = !ever && !tok && tries >= 2 && navigator.onLine !== false;
    if (refused) { $("nat").textContent = t("na"); show("na"); } else if (ever || tok) status(t("reconnecting"));
    const d = Math.min(refused ? 60000 : 15000, 500 * 2 ** Math.min(tries - 1, 8));
    timer = setTimeout(connect, d / 2 + Math.random() * d / 2);
  }
  function now() { tries = 0; kill(); clearTimeout(timer); connect(); }
  function req(cmd, data, cb) {
    cb = cb || (() => {});
    if (!ws || ws.readyState !== 1) { cb(null, { code: "offline" }); return ""; }
    const id = "w" + ++nid;
    reqs[id] = { cb, t: setTimeout(() => { if (reqs[id]) { delete reqs[id]; cb(null, { code: "timeout" }); kill(); retry(); } }, 15000) };
    ws.send(JSON.stringify({ id, cmd, data }));
    return id;
  }
  function hello() {
    const h = { v: 1, role: "visitor", client: "widget/" + VERSION };
    if (tok) { h.token = tok; h.resume = {}; h.resume[sid] = last; } else h.channel = channel;
    req("hello", h, welcome);
  }
  function welcome(d, err) {
    if (err) {
      if (err.code === "offline" || err.code === "timeout") return;
      if (err.code === "bad_credentials" && tok) { forget(); show(""); return hello(); } // chat gone: start over
      $("nat").textContent = t("na"); show("na"); // unknown channel, unsupported version
      kill(); tries = 6; retry();
      return;
    }
    online = ever = true; tries = 0; status("");
    chan = d.channel || {};
    $("ttl").textContent = chan.name || t("title");
    if (d.chat) {
      session(d.chat);
      if (d.position) position(d.position);
      for (const c of Object.keys(pend)) push(c);
    } else if (view !== "thanks" && !tok) form(chan.open ? "chat" : chan.offline_form ? "offline" : "closed");
    if (after) { const f = after; after = null; f(); }
  }
  setInterval(() => { // an application ping finds a dead connection that never closed
    if (!online) return;
    if (pingWait) { kill(); retry(); return; }
    pingWait = true;
    req("ping", {}, () => { pingWait = false; });
  }, 25000);
  W.addEventListener("online", () => { if (!online && (tok || isOpen)) now(); });

  function frame(raw) {
    let f;
    try { f = JSON.parse(raw); } catch (e) { return; }
    if (!f || typeof f !== "object") return;
    if (f.ev) return event(f);
    const r = reqs[f.re];
    if (r) { delete reqs[f.re]; clearTimeout(r.t); r.cb(f.ok ? f.data || {} : null, f.ok ? null : f.error || {}); return; }
    // The relay refuses a flooded frame without naming it: resend what waits for an ack.
    if (f.error && f.error.code === "rate_limited") limited();
  }
  function event(f) {
    const d = f.data || {};
    if (f.session && f.session !== sid) return;
    if (f.ev === "entry") entry(f.seq, d);
    else if (f.ev === "session") session(d);
    else if (f.ev === "position") position(d);
    else if (f.ev === "typing" && d.who && d.who !== "visitor") {
      $("typ").textContent = t("typing", { n: d.who });
      clearTimeout(typT);
      typT = setTimeout(() => { $("typ").textContent = ""; }, 5000);
    }
  }

  // ---- the chat
  function session(s) {
    sid = s.id; st = s.state;
    if (s.owner && s.owner.name) agent = s.owner.name;
    if (st !== "queued") $("pos").hidden = true;
    save();
    show("chat");
    ended();
  }
  function position(p) {
    const el = $("pos");
    el.hidden = !(st === "queued" && p.position > 0);
    el.textContent = t("queue", { n: p.position, m: Math.max(1, Math.round((p.estimated_wait_s || 0) / 60)) });
    if (!el.hidden && p.position !== lastPos && isOpen) say(el.textContent);
    lastPos = el.hidden ? 0 : p.position;
  }
  function entry(seq, e) {
    if (!seq || lines[seq] || e.staff) return;
    const kind = e.from && e.from.kind === "agent" ? "a" : e.from && e.from.kind === "system" ? "s" : "v";
    const nm = (e.from && e.from.name) || "";
    const x = { k: kind, n: nm, x: (N[e.note] || e.text || "").replace("{n}", () => nm), t: e.at };
    if (e.file) x.f = e.file;
    const p = e.client_id && kind === "v" && pend[e.client_id];
    if (p) { delete pend[e.client_id]; outbox(e.client_id, null); }
    add(seq, x, p && p.el);
    if (kind === "a") {
      clearTimeout(typT); $("typ").textContent = "";
      if (!isOpen) { $("dot").hidden = false; $("l").setAttribute("aria-label", t("openNew")); }
    }
    // The log is not rendered while the panel is minimised: say what came.
    if (!isOpen && kind !== "v") say(kind === "a" ? t("newFrom", { n: nm, x: x.x || (x.f && x.f.name) }) : x.x);
  }
  function add(seq, x, el) {
    lines[seq] = x;
    if (seq > last) last = seq;
    const log = $("log");
    const end = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
    if (el) {
      el.classList.remove("p", "x");
      const s = el.querySelector(".st"), th = el.querySelector(".th");
      if (s) s.remove();
      if (th && th._fill) { th._fill(); th._fill = null; }
    } else el = line(x);
    place(el, seq);
    if (end || x.k === "v") log.scrollTop = log.scrollHeight;
    save();
    if (st === "ended") transcript();
  }
  // place puts a confirmed line in seq order, above the lines still waiting for their ack.
  // A line already in its place stays put: moving it would make screen readers read it again.
  function place(el, seq) {
    const log = $("log");
    el._q = seq;
    let ref = log.lastChild;
    while (ref && (ref === el || ref._q === undefined || ref._q > seq)) ref = ref.previousSibling;
    const at = ref ? ref.nextSibling : log.firstChild;
    if (at !== el) log.insertBefore(el, at);
    const prev = el.previousSibling; // an agent's name once per run of lines
    el.classList.toggle("c", el._k === "a" && !!prev && prev._k === "a" && prev._n === el._n);
  }
  function line(x, later) {
    const el = D.createElement("div");
    el.className = "m " + x.k;
    el._k = x.k; el._n = x.n;
    if (x.k !== "s") {
      const w = D.createElement("div");
      w.className = x.k === "a" ? "who" : "vh";
      w.textContent = x.k === "a" ? x.n : t("you") + ":";
      el.appendChild(w);
    }
    const b = D.createElement("div");
    b.className = "b";
    // Text only, never HTML; web addresses become links.
    const re = /\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?)'\]]/g;
    let i = 0, m;
    while ((m = re.exec(x.x))) {
      b.appendChild(D.createTextNode(x.x.slice(i, m.index)));
      const a = D.createElement("a");
      a.href = m[0]; a.target = "_blank"; a.rel = "noopener noreferrer nofollow"; a.textContent = m[0];
      b.appendChild(a);
      i = m.index + m[0].length;
    }
    b.appendChild(D.createTextNode(x.x.slice(i)));
    if (x.f) el.appendChild(fileEl(x.f, later));
    if (x.x || !x.f) el.appendChild(b);
    return el;
  }
  function pending(c) {
    const p = pend[c];
    if (!p.el) {
      p.el = line({ k: "v", n: "", x: p.x, f: p.f }, true);
      p.el.classList.add("p");
      const s = D.createElement("span");
      s.className = "vh st"; s.textContent = " (" + t("sending") + ")";
      p.el.appendChild(s);
      const log = $("log");
      log.appendChild(p.el);
      log.scrollTop = log.scrollHeight;
    }
    return p;
  }
  function push(c) {
    const p = pend[c];
    if (!p || p.id || !online) return;
    const m = { session: sid, client_id: c, text: p.x };
    if (p.f) m.file = p.f.id;
    p.id = req("message.send", m, (d, err) => {
      p.id = "";
      if (d) return ack(c, d.seq);
      if (err.code === "unavailable") return setTimeout(() => push(c), 3000); // the relay cannot store it just now
      if (err.code === "offline" || err.code === "timeout") return; // resent after reconnect
      if (err.code === "rate_limited") return limited();
      delete pend[c]; outbox(c, null);
      if (err.code === "too_large") { // keep the text in the box
        p.el.remove();
        const m = $("msg");
        m.value = p.x + (m.value ? "\n" + m.value : "");
        grow(); m.focus();
        return note(t("tooLong"), "err");
      }
      p.el.classList.add("x");
      const s = p.el.querySelector(".st");
      s.className = "ns st"; s.textContent = t("notSent");
    });
  }
  function ack(c, seq) {
    const p = pend[c];
    if (!p) return; // the entry came first
    delete pend[c]; outbox(c, null);
    if (lines[seq]) { p.el.remove(); return; }
    add(seq, { k: "v", n: "", x: p.x, f: p.f, t: new Date().toISOString() }, p.el);
  }
  function limited() {
    note(t("rate"), "warn");
    setTimeout(() => {
      for (const c of Object.keys(pend)) {
        const p = pend[c];
        if (p.id && reqs[p.id]) { clearTimeout(reqs[p.id].t); delete reqs[p.id]; p.id = ""; }
        push(c);
      }
    }, 1500);
  }
  function sendMsg() {
    const m = $("msg"), x = m.value.replace(/^\s*\n/, "").replace(/\s+$/, "");
    if (!x.trim() || !sid || st === "ended") return;
    if (new TextEncoder().encode(x).length > 8000) return note(t("tooLong"), "err");
    m.value = ""; grow();
    const c = cid();
    pend[c] = { x };
    outbox(c, x);
    pending(c);
    push(c);
  }
  // ---- files: a slot over the websocket, the bytes by HTTP PUT, then the message that carries them
  const IMG = ["image/png", "image/jpeg", "image/gif"];
  function size(n) { return n < 1e3 ? n + " B" : n < 1e6 ? Math.round(n / 1e3) + " kB" : (n / 1e6).toFixed(1) + " MB"; }
  function fileErr(code) {
    const fl = chan.files || {};
    note(code === "file_type" ? t("fType") : code === "too_large" ? t("fBig", { m: size(fl.max_bytes || 0) }) :
      code === "forbidden" ? t("fOff") : code === "file_gone" ? t("fGone") : t("fAgain"), "err");
  }
  function attach(file) {
    if (!file || !sid || st === "ended" || xhr) return;
    const fl = chan.files || {};
    if (!fl.max_bytes) return fileErr("forbidden");
    if (file.size > fl.max_bytes) return fileErr("too_large");
    const name = file.name || "screenshot.png";
    req("file.upload", { session: sid, name, size: file.size }, (d, err) => {
      if (!d) return fileErr(err.code);
      const x = xhr = new XMLHttpRequest();
      $("upn").textContent = t("uploading", { n: name }); $("upp").value = 0; $("up").hidden = false;
      const done = () => { xhr = null; $("up").hidden = true; };
      x.upload.onprogress = (e) => { if (e.lengthComputable) $("upp").value = Math.round(100 * e.loaded / e.total); };
      x.onload = () => {
        done();
        let r = {};
        try { r = JSON.parse(x.responseText); } catch (e) { /* not JSON */ }
        if (x.status !== 201) return fileErr(r.code);
        const c = cid();
        pend[c] = { x: "", f: r };
        outbox(c, { x: "", f: r });
        pending(c); push(c);
      };
      x.onerror = () => { done(); fileErr(""); };
      x.onabort = done;
      x.open("PUT", base + d.upload_url);
      x.send(file);
    });
  }
  // fileEl: a thumbnail (images; a click opens it full size) or the name, type and size, to download.
  function fileEl(f, later) {
    const a = D.createElement("a");
    a.href = "#";
    const open = (e) => {
      e.preventDefault();
      const w = IMG.includes(f.type) ? W.open("", "_blank") : null;
      req("file.url", { session: sid, file: f.id }, (d, err) => {
        if (!d) { if (w) w.close(); return fileErr(err.code); }
        if (w) { w.opener = null; w.location = base + d.preview_url; return; }
        const l = D.createElement("a");
        l.href = base + d.url; l.download = f.name; l.rel = "noopener";
        root.appendChild(l); l.click(); l.remove();
      });
    };
    a.onclick = open;
    if (IMG.includes(f.type)) {
      a.className = "th";
      a.setAttribute("aria-label", t("full", { n: f.name }));
      const i = D.createElement("img");
      i.alt = f.name;
      if (f.width) { i.width = Math.min(220, f.width); }
      a.appendChild(i);
      const fill = a._fill = () => online ? req("file.url", { session: sid, file: f.id }, (d) => { if (d) i.src = base + d.preview_url; }) : setTimeout(fill, 1000);
      if (!later) fill(); // a line still being sent is filled once the relay has it
    } else {
      a.className = "fl";
      const b = D.createElement("b"), m = D.createElement("small");
      b.textContent = f.name; m.textContent = f.type + " · " + size(f.size);
      a.append(b, m);
    }
    return a;
  }
  function cid() {
    const b = new Uint8Array(9);
    crypto.getRandomValues(b);
    let c = "w";
    for (const v of b) c += (v + 256).toString(16).slice(1);
    return c;
  }
  function grow() { const m = $("msg"); m.style.height = "auto"; m.style.height = Math.min(m.scrollHeight, 120) + "px"; }
  function ended() {
    const over = st === "ended";
    $("done").hidden = !over; $("cmp").hidden = over; $("end").hidden = over || view !== "chat";
    if (over) { $("cf").hidden = true; $("typ").textContent = ""; transcript(); }
    sub();
    keep();
  }
  function transcript() {
    const f = (s) => { const d = new Date(s); return isNaN(d) ? "" : d.toLocaleString(sv ? "sv-SE" : "en-GB"); };
    let s = t("tr") + " - " + (chan.name || t("title")) + "\n\n";
    for (const k of Object.keys(lines)) {
      const x = lines[k];
      s += "[" + f(x.t) + "] " + (x.k === "s" ? "* " : (x.k === "v" ? t("you") : x.n) + ": ") + x.x +
        (x.f ? (x.x ? " " : "") + "[" + t("file") + ": " + x.f.name + ", " + size(x.f.size) + "]" : "") + "\n";
    }
    if (blobURL) URL.revokeObjectURL(blobURL);
    blobURL = URL.createObjectURL(new Blob([s], { type: "text/plain;charset=utf-8" }));
    const a = $("dl");
    a.href = blobURL;
    a.download = "chat-" + new Date().toISOString().slice(0, 10) + ".txt";
  }

  // ---- forms
  function form(m) {
    mode = m;
    if (m === "closed") { $("nat").textContent = t("closed"); return show("na"); }
    $("fi").textContent = t(m === "offline" ? "offline" : "hello");
    $("fs").textContent = t(m === "offline" ? "submit" : "start");
    show("form");
    if (isOpen && (!root.activeElement || root.activeElement.id === "x")) focusIn();
  }
  function check() {
    let ok = true, first = null;
    const f = (id, bad, msg) => {
      const el = $(id);
      el.setAttribute("aria-invalid", bad ? "true" : "false");
      $(id + "e").textContent = bad ? t(msg) : "";
      if (bad) { ok = false; first = first || el; }
    };
    f("fn", !$("fn").value.trim(), "errName");
    f("fm", !/^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]+$/.test($("fm").value.trim()), "errEmail");
    f("fq", mode === "offline" && !$("fq").value.trim(), "errQuestion");
    if (first) first.focus();
    return ok;
  }
  function submit(e) {
    e.preventDefault();
    if ($("fs").getAttribute("aria-disabled") === "true") return; // sent already, waiting for the answer
    $("fx").textContent = "";
    if (!check()) return;
    const data = { name: $("fn").value.trim(), email: $("fm").value.trim(), question: $("fq").value.trim() };
    if (!online && (dozing || ws)) { wake(); after = () => submit(e); return; } // sent once connected
    const cmd = mode === "offline" ? "offline.submit" : "chat.start";
    // aria-disabled, not disabled: a disabled button would drop the focus to the page.
    $("fs").setAttribute("aria-disabled", "true");
    req(cmd, data, (d, err) => {
      $("fs").removeAttribute("aria-disabled");
      if (d && cmd === "chat.start") {
        tok = d.token; st = "queued"; last = 0; lines = {};
        $("fq").value = "";
        session(d.chat);
        position(d.position || {});
        return $("msg").focus();
      }
      if (d) {
        $("tyn").textContent = t("thanks", { n: d.number }); $("tym").textContent = t("thanksMore", { e: data.email }); $("fq").value = "";
        show("thanks");
        return say($("tyn").textContent + " " + $("tym").textContent);
      }
      if (err.code === "channel_closed") { form("offline"); return $("fs").focus(); } // keeps what was typed; also a full queue
      if (err.code === "invalid_state" && cmd === "offline.submit") { form("chat"); return $("fs").focus(); } // open again: chat instead
      if (err.code === "rate_limited") { $("fx").textContent = t("busy"); return; }
      if (err.code === "bad_request" && /mail/i.test(err.message || "")) { $("fme").textContent = t("errEmail"); return $("fm").focus(); }
      $("fx").textContent = t("failed");
      if (err.code === "offline" && !ws) now();
    });
  }

  // ---- the panel
  function show(v) {
    view = v;
    $("ld").hidden = v !== ""; $("na").hidden = v !== "na"; $("f").hidden = v !== "form";
    $("ty").hidden = v !== "thanks"; $("chat").hidden = v !== "chat";
    $("end").hidden = v !== "chat" || st === "ended";
    sub();
    keep();
  }
  function sub() {
    const s = view === "chat"
      ? (st === "ended" ? t("ended") : st === "active" && agent ? t("with", { n: agent }) : t("waiting"))
      : view === "form" || view === "thanks" ? t(mode === "chat" ? "here" : "leave") : "";
    $("sub").textContent = s;
    // The chat's state is a status message (WCAG 4.1.3): said once per change.
    if (view === "chat" && s !== said && isOpen) say(s);
    said = view === "chat" ? s : "";
  }
  // say puts a status message into the live region that is always rendered: emptied
  // first and filled a moment later (the same words twice are read twice), with what
  // else was said meanwhile.
  function say(s) {
    const el = $("say");
    if (!sayQ.length) el.textContent = "";
    sayQ.push(s);
    clearTimeout(sayT);
    sayT = setTimeout(() => { el.textContent = sayQ.join(" "); sayQ = []; }, 120);
  }
  // keep moves the focus into the view when the element that had it was just hidden
  // (the agent ended the chat while the visitor typed; the thank-you replaced the form).
  function keep() {
    if (!isOpen || D.activeElement !== root.host) return;
    const a = root.activeElement;
    if (!a || !a.getClientRects().length) focusIn();
  }
  // On a phone the panel covers the page: it is modal there, and Tab stays inside it.
  function modal() { $("p").setAttribute("aria-modal", phone.matches ? "true" : "false"); }
  function trap(e) {
    if (e.key !== "Tab" || !phone.matches) return;
    const all = [...$("p").querySelectorAll("button,a[href],input,textarea,[tabindex='0']")]
      .filter((el) => !el.disabled && el.getClientRects().length);
    if (!all.length) return;
    const first = all[0], last = all[all.length - 1], a = root.activeElement;
    if (e.shiftKey && (a === first || !all.includes(a))) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && (a === last || !all.includes(a))) { e.preventDefault(); first.focus(); }
  }
  function status(s) { $("cs").textContent = s; $("cs").hidden = !s; }
  function note(s, kind) {
    const n = $("nt");
    n.textContent = s; n.className = "bar " + kind; n.hidden = false;
    clearTimeout(ntT);
    ntT = setTimeout(() => { n.hidden = true; }, 6000);
  }
  function open(focus) {
    if (!booted) return;
    if (!isOpen) {
      isOpen = true;
      $("p").hidden = false;
      $("dot").hidden = true;
      const l = $("l");
      l.setAttribute("aria-expanded", "true"); l.setAttribute("aria-label", t("close"));
      if (dozing) wake(); else if (!ws && !tries) connect();
      save();
      const log = $("log");
      log.scrollTop = log.scrollHeight;
    }
    if (focus !== false) focusIn();
  }
  // focusIn moves the focus to where the visitor will type.
  function focusIn() {
    let el = $("x");
    if (view === "chat") el = st === "ended" ? $("dl") : $("msg");
    else if (view === "form") el = !$("fn").value ? $("fn") : !$("fm").value ? $("fm") : $("fq");
    else if (view === "thanks") el = $("tyn");
    else if (view === "na") el = $("nat");
    el.focus();
  }
  function close() {
    if (!isOpen) return;
    isOpen = false;
    $("p").hidden = true;
    const l = $("l");
    l.setAttribute("aria-expanded", "false"); l.setAttribute("aria-label", t("open"));
    l.focus();
    save();
  }

  function boot() {
    const host = D.createElement("switchboard-widget");
    // The widget speaks its own language, whatever the page's (WCAG 3.1.2).
    host.setAttribute("lang", sv ? "sv" : "en");
    root = host.attachShadow({ mode: "open" });
    root.innerHTML = "<style>" + CSS + "</style>" + HTML;
    $ = (id) => root.getElementById(id);
    D.body.appendChild(host);
    // Pages that re-render <body> would drop the widget: put it back.
    const mo = new MutationObserver(() => {
      if (host.isConnected || !D.body) return;
      D.body.appendChild(host);
      mo.observe(D.body, { childList: true });
    });
    mo.observe(D.documentElement, { childList: true });
    mo.observe(D.body, { childList: true });
    booted = true;

    $("ttl").textContent = t("title");
    $("l").onclick = () => (isOpen ? close() : open());
    $("x").onclick = close;
    modal();
    if (phone.addEventListener) phone.addEventListener("change", modal);
    $("p").addEventListener("keydown", trap);
    // Escape closes the confirmation, else the panel: from inside it or from the launcher.
    root.addEventListener("keydown", (e) => {
      if (e.key !== "Escape" || !isOpen) return;
      e.stopPropagation();
      if (!$("cf").hidden) { $("cf").hidden = true; $("end").focus(); } else close();
    });
    $("f").onsubmit = submit;
    $("f").addEventListener("focusin", wake);
    $("f").oninput = (e) => { // a corrected field loses its error
      const el = e.target;
      if (el.getAttribute("aria-invalid") === "true") { el.setAttribute("aria-invalid", "false"); $(el.id + "e").textContent = ""; }
    };
    $("cmp").onsubmit = (e) => { e.preventDefault(); sendMsg(); };
    $("att").onclick = () => $("fin").click();
    $("fin").onchange = () => { const f = $("fin").files[0]; $("fin").value = ""; attach(f); };
    $("upc").onclick = () => { if (xhr) xhr.abort(); $("msg").focus(); };
    const files = (e) => e.dataTransfer && [...e.dataTransfer.types].includes("Files");
    $("chat").addEventListener("dragover", (e) => { if (files(e)) { e.preventDefault(); $("chat").classList.add("drop"); } });
    $("chat").addEventListener("dragleave", () => $("chat").classList.remove("drop"));
    $("chat").addEventListener("drop", (e) => {
      $("chat").classList.remove("drop");
      if (files(e)) { e.preventDefault(); attach(e.dataTransfer.files[0]); }
    });
    const m = $("msg");
    m.onpaste = (e) => { // a pasted screenshot is attached
      const f = e.clipboardData && e.clipboardData.files && e.clipboardData.files[0];
      if (f) { e.preventDefault(); attach(f); }
    };
    m.onkeydown = (e) => { if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendMsg(); } };
    m.oninput = () => {
      grow();
      const n = Date.now();
      if (online && sid && st !== "ended" && m.value && n - lastTyping > 3000) { lastTyping = n; req("typing", { session: sid }); }
    };
    $("end").onclick = () => { $("cf").hidden = false; $("cy").focus(); };
    $("cn").onclick = () => { $("cf").hidden = true; $("end").focus(); };
    $("cy").onclick = () => {
      $("cf").hidden = true;
      req("session.end", { session: sid }, (d, err) => {
        if (d || err.code === "invalid_state") { st = "ended"; save(); ended(); $("dl").focus(); } else note(t("failed"), "err");
      });
    };
    $("again").onclick = () => { forget(); show(""); now(); $("x").focus(); };
    // Another tab started a chat: join it.
    W.addEventListener("storage", (e) => { if (e.key === K && !tok && e.newValue && load()) { restore(); now(); } });

    if (load()) { restore(); connect(); if (reopen) open(false); }
  }
  function restore() {
    show("chat");
    for (const k of Object.keys(lines)) place(line(lines[k]), +k);
    for (const c of Object.keys(pend)) pending(c);
    ended();
  }

  const api = { version: VERSION, open: () => open(), close: () => close() };
  Object.defineProperty(api, MARK, { value: true });
  try { Object.defineProperty(W, "Switchboard", { value: Object.freeze(api), configurable: true, enumerable: false, writable: false }); } catch (e) { /* taken */ }
  if (D.body) boot(); else D.addEventListener("DOMContentLoaded", boot);
})();
