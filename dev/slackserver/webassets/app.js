// The browser demo workspace: polls the server for what the chosen user sees in the chosen
// channel, and turns typing and clicks into the server's Socket Mode envelopes. Message
// HTML is rendered (and escaped) by the server; everything built here uses textContent.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const params = new URLSearchParams(location.search);
  const sel = { user: params.get('user') || '', channel: params.get('channel') || '' };
  let version = '';
  let shownChannel = '';
  const openThreads = new Set(); // thread parents the person opened, kept across refreshes
  let focusTS = params.get('ts') || ''; // a permalink's message, scrolled to once shown
  let scrolledTo = '';
  let seen = null; // channel id -> newest timestamp the person has seen (unread markers)
  const closedCanvas = new Set(); // channels whose canvas the person closed
  let canvasCount = 0;

  async function call(path, body) {
    const init = body
      ? { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }
      : { cache: 'no-store' };
    const res = await fetch(path, init);
    const data = await res.json().catch(() => ({ ok: false, error: res.status + ' ' + res.statusText }));
    if (!res.ok && !data.error) data.error = res.status + ' ' + res.statusText;
    return data;
  }

  function status(text, isError) {
    const s = $('status');
    s.textContent = text || '';
    s.className = isError ? 'error' : '';
  }

  async function poll() {
    try {
      render(await call('api/state?' + new URLSearchParams(sel)));
    } catch (e) {
      setConn(false, 'local Slack server unreachable');
    }
  }

  function setConn(ok, text) {
    const c = $('conn');
    c.className = 'conn ' + (ok ? 'up' : 'down');
    c.textContent = text || (ok ? 'perfbot connected' : 'no app connected: start perfbot run');
  }

  function render(st) {
    sel.user = st.user || '';
    sel.channel = (st.channel && st.channel.id) || '';
    setConn(st.connected);
    if (st.version === version) return;
    version = st.version;
    const q = new URLSearchParams({ user: sel.user, channel: (st.channel && st.channel.name) || '' });
    history.replaceState(null, '', '?' + q + location.hash);
    renderUsers(st.users || [], sel.user);
    renderChannels(st.channels || [], sel.channel);
    $('faults').hidden = !st.faults;
    if (st.faults && !faultsLoaded) loadFaults();
    const ch = st.channel || {};
    $('chan-name').textContent = ch.kind === 'im' ? ch.name : (ch.kind === 'private' ? '◆ ' : '# ') + (ch.name || '');
    $('chan-topic').textContent = ch.topic || '';
    renderMessages(st.messages || '');
    renderCanvases(st.canvases || [], st.names || {});
  }

  function unread(c) {
    if (seen === null) return false;
    return c.id !== sel.channel && !!c.latest && !(seen[c.id] >= c.latest);
  }

  function renderUsers(users, current) {
    const s = $('user');
    const key = users.map((u) => u.id).join(',');
    if (s.dataset.key !== key) {
      s.replaceChildren(...users.map((u) => {
        const o = el('option', '', u.name);
        o.value = u.id;
        return o;
      }));
      s.dataset.key = key;
    }
    s.value = current;
  }

  function renderChannels(chans, current) {
    if (seen === null) { // what exists when the page opens counts as read
      seen = {};
      chans.forEach((c) => { seen[c.id] = c.latest || ''; });
    }
    chans.forEach((c) => { if (c.id === current) seen[c.id] = c.latest || ''; });
    $('channels').replaceChildren(...chans.map((c) => {
      const isUnread = unread(c);
      const b = el('button', 'chan' + (c.id === current ? ' active' : '') + (isUnread ? ' unread' : ''));
      b.type = 'button';
      b.dataset.id = c.id;
      b.append(el('span', 'sigil', c.kind === 'im' ? '@' : c.kind === 'private' ? '◆' : '#'), el('span', 'chan-name', c.name));
      if (isUnread) b.append(el('span', 'badge', 'new'));
      b.setAttribute('aria-label', (c.kind === 'im' ? 'direct message ' : c.kind === 'private' ? 'private channel ' : 'channel ') + c.name + (isUnread ? ', unread' : ''));
      if (c.id === current) b.setAttribute('aria-current', 'page');
      b.addEventListener('click', () => { sel.channel = c.id; version = ''; focusTS = ''; poll(); });
      return b;
    }));
  }

  function renderMessages(html) {
    const box = $('messages');
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
    const active = document.activeElement;
    const drafts = {};
    box.querySelectorAll('form.reply').forEach((f) => { drafts[f.dataset.thread] = f.elements.text.value; });
    const focusedReply = active && active.closest && active.closest('form.reply') ? active.closest('form.reply').dataset.thread : '';
    box.innerHTML = html; // server-rendered HTML, every text escaped there
    box.querySelectorAll('time[data-ts]').forEach((t) => {
      const d = new Date(parseFloat(t.dataset.ts) * 1000);
      t.textContent = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
      t.title = d.toString();
    });
    box.querySelectorAll('.thread[data-thread]').forEach((t) => {
      t.classList.toggle('open', openThreads.has(sel.channel + ' ' + t.dataset.thread));
      const head = t.querySelector('button[data-toggle]');
      if (head) head.setAttribute('aria-expanded', t.classList.contains('open'));
    });
    openThreads.forEach((key) => {
      const [chan, ts] = key.split(' ');
      if (chan !== sel.channel) return;
      const msg = box.querySelector('.msg[data-ts="' + CSS.escape(ts) + '"]');
      if (msg) addReplyForm(msg, ts, drafts[ts] || '', focusedReply === ts);
    });
    if (focusTS) {
      const target = box.querySelector('.msg[data-ts="' + CSS.escape(focusTS) + '"]');
      if (target) {
        const thread = target.closest('.thread');
        if (thread) thread.classList.add('open');
        target.classList.add('focus');
        if (scrolledTo !== focusTS) {
          target.scrollIntoView({ block: 'center' });
          scrolledTo = focusTS;
          shownChannel = sel.channel;
          return;
        }
      }
    }
    if (atBottom || shownChannel !== sel.channel) box.scrollTop = box.scrollHeight;
    shownChannel = sel.channel;
  }

  // addReplyForm puts a composer for the thread of ts under its parent message.
  function addReplyForm(msg, ts, draft, focus) {
    let thread = msg.querySelector(':scope > .thread');
    if (!thread) {
      thread = el('div', 'thread open');
      thread.dataset.thread = ts;
      thread.append(el('div', 'replies'));
      msg.append(thread);
    }
    const form = el('form', 'reply');
    form.dataset.thread = ts;
    const input = el('input');
    input.name = 'text';
    input.value = draft;
    input.placeholder = 'Reply in thread';
    input.setAttribute('aria-label', 'reply in thread');
    const send = el('button', '', 'Reply');
    send.type = 'submit';
    form.append(input, send);
    thread.append(form);
    if (focus) input.focus();
  }

  // Canvases: a small Markdown renderer that builds DOM nodes, so nothing is parsed as HTML.
  function renderCanvases(canvases, names) {
    const pane = $('canvas');
    canvasCount = canvases.length;
    const closed = closedCanvas.has(sel.channel);
    pane.hidden = canvases.length === 0 || closed;
    $('canvas-open').hidden = canvases.length === 0 || !closed;
    document.body.classList.toggle('with-canvas', !pane.hidden);
    $('canvas-body').replaceChildren(...canvases.map((cv) => {
      const sec = el('section', 'canvas');
      if (cv.title) sec.append(el('h2', '', cv.title));
      sec.append(markdown(cv.markdown || '', names));
      return sec;
    }));
  }

  const special = /^(#{1,6}\s|```|\s*\||\s*(?:[-*+]|\d+\.)\s|\s*(?:---|\*\*\*)\s*$)/;

  function markdown(md, names) {
    const out = document.createDocumentFragment();
    const lines = md.replace(/\r\n/g, '\n').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i];
      let m;
      if (/^```/.test(l)) {
        const buf = [];
        for (i++; i < lines.length && !/^```/.test(lines[i]); i++) buf.push(lines[i]);
        out.append(el('pre', 'code', buf.join('\n')));
      } else if ((m = /^(#{1,6})\s+(.*)$/.exec(l))) {
        out.append(inline(el('h' + Math.min(m[1].length + 2, 6)), m[2], names));
      } else if (/^\s*\|/.test(l)) {
        const rows = [];
        for (; i < lines.length && /^\s*\|/.test(lines[i]); i++) rows.push(lines[i]);
        i--;
        out.append(table(rows, names));
      } else if (/^\s*(?:[-*+]|\d+\.)\s/.test(l)) {
        const list = el(/^\s*\d/.test(l) ? 'ol' : 'ul');
        for (; i < lines.length && (m = /^\s*(?:[-*+]|\d+\.)\s+(.*)$/.exec(lines[i])); i++) {
          const item = m[1].replace(/^\[ \]\s*/, '☐ ').replace(/^\[[xX]\]\s*/, '☑ ');
          list.append(inline(el('li'), item, names));
        }
        i--;
        out.append(list);
      } else if (/^\s*(?:---|\*\*\*)\s*$/.test(l)) {
        out.append(el('hr'));
      } else if (l.trim()) {
        const buf = [];
        for (; i < lines.length && lines[i].trim() && (buf.length === 0 || !special.test(lines[i])); i++) buf.push(lines[i]);
        i--;
        out.append(inline(el('p'), buf.join('\n'), names));
      }
    }
    return out;
  }

  function table(rows, names) {
    const t = el('table');
    rows.filter((r) => !/^\s*\|?[\s:|-]+\|?\s*$/.test(r)).forEach((r, n) => {
      const tr = el('tr');
      const cells = r.trim().replace(/\\\|/g, '\u0000').replace(/^\||\|$/g, '').split('|');
      cells.forEach((c) => tr.append(inline(el(n === 0 ? 'th' : 'td'), c.replace(/\u0000/g, '|').trim(), names)));
      t.append(tr);
    });
    const wrap = el('div', 'md-table');
    wrap.append(t);
    return wrap;
  }

  const inlineRe = /(?<!\\)(`[^`]+`)|(\*\*[^*]+\*\*)|(\[[^\]]+\]\([^)\s]+\))|(<[@#!][^>]+>)|(\b_[^_]+_\b)|(\*[^*\s][^*]*\*)|(!\[\]\([@#][A-Z0-9]+\))/g; // the last: a canvas mention, ![](@U…) or ![](#C…)

  // plain drops Markdown's backslash escapes (\# \( \*): they are syntax, not text.
  const plain = (t) => t.replace(/\\([!-\/:-@\[-`{-~])/g, '$1');

  function inline(parent, text, names) {
    let last = 0;
    for (const m of text.matchAll(inlineRe)) {
      parent.append(plain(text.slice(last, m.index)));
      last = m.index + m[0].length;
      const s = m[0];
      if (m[1]) parent.append(el('code', '', s.slice(1, -1)));
      else if (m[2]) parent.append(el('strong', '', plain(s.slice(2, -2))));
      else if (m[3]) parent.append(link(s, names));
      else if (m[4]) parent.append(mention(s.slice(1, -1), names));
      else if (m[7]) parent.append(mention(s.slice(4, -1), names));
      else parent.append(el('em', '', plain(s.slice(1, -1))));
    }
    parent.append(plain(text.slice(last)));
    return parent;
  }

  function link(s, names) {
    const m = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(s);
    if (!/^(https?:|mailto:)/i.test(m[2])) return document.createTextNode(s);
    const a = el('a', '', plain(m[1]));
    a.href = m[2];
    if (a.origin !== location.origin) { // a permalink into this workspace opens here
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
    }
    return a;
  }

  function mention(ref, names) {
    const [id, label] = ref.split('|');
    const sigil = id[0] === '#' ? '#' : '@';
    const name = names[id.slice(1)] || label || id.slice(1);
    return el('span', 'mention', sigil + name.replace(/^[@#]/, ''));
  }

  $('user').addEventListener('change', (e) => { sel.user = e.target.value; version = ''; seen = null; poll(); });

  $('composer').addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = $('text');
    const text = input.value.trim();
    if (!text) return;
    status(text.startsWith('/') ? 'Sending ' + text + ' …' : '');
    const r = await call('api/send', { user: sel.user, channel: sel.channel, text });
    if (r.ok) {
      input.value = '';
      status('');
    } else {
      status(r.error, true);
    }
    poll();
  });

  $('messages').addEventListener('submit', async (e) => {
    const form = e.target.closest('form.reply');
    if (!form) return;
    e.preventDefault();
    const text = form.elements.text.value.trim();
    if (!text) return;
    const r = await call('api/send', { user: sel.user, channel: sel.channel, ts: form.dataset.thread, text });
    if (r.ok) form.elements.text.value = '';
    status(r.ok ? '' : r.error, !r.ok);
    version = '';
    poll();
  });

  $('messages').addEventListener('click', async (e) => {
    const toggle = e.target.closest('button[data-toggle]');
    if (toggle) {
      const t = toggle.closest('.thread');
      const key = sel.channel + ' ' + t.dataset.thread;
      if (t.classList.toggle('open')) openThreads.add(key); else openThreads.delete(key);
      toggle.setAttribute('aria-expanded', t.classList.contains('open'));
      version = '';
      poll();
      return;
    }
    const btn = e.target.closest('button[data-action], button[data-pin], button[data-react], button[data-reply]');
    const msg = btn && btn.closest('.msg[data-ts]');
    if (!msg) return;
    if (btn.dataset.reply !== undefined) {
      openThreads.add(sel.channel + ' ' + msg.dataset.ts);
      if (!msg.querySelector(':scope > .thread > form.reply')) addReplyForm(msg, msg.dataset.ts, '', true);
      else msg.querySelector(':scope > .thread > form.reply input').focus();
      return;
    }
    const body = { user: sel.user, channel: sel.channel, ts: msg.dataset.ts };
    let path = 'api/pin';
    if (btn.dataset.action !== undefined) {
      if (btn.dataset.confirm && !window.confirm(btn.dataset.confirm)) return;
      if (btn.dataset.url) window.open(btn.dataset.url, '_blank', 'noopener');
      path = 'api/click';
      body.action_id = btn.dataset.action;
    } else if (btn.dataset.react !== undefined) {
      path = 'api/react';
      body.action_id = btn.dataset.react;
    }
    btn.disabled = true;
    const r = await call(path, body);
    status(r.ok ? '' : r.error, !r.ok);
    btn.disabled = false;
    poll();
  });

  $('canvas-close').addEventListener('click', () => {
    closedCanvas.add(sel.channel);
    version = '';
    poll();
    $('canvas-open').focus();
  });
  $('canvas-open').addEventListener('click', () => {
    closedCanvas.delete(sel.channel);
    version = '';
    poll();
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !$('canvas').hidden && canvasCount > 0) $('canvas-close').click();
  });

  // The fault panel: each of the simulator's faults, with what it does, injected or cleared here.
  let faultsLoaded = false;
  async function loadFaults() {
    faultsLoaded = true;
    const r = await call('api/faults');
    if (!r.ok) { status(r.error, true); return; }
    $('fault-list').replaceChildren(...(r.faults || []).map((f) => {
      const li = el('li', 'fault' + (f.active ? ' active' : ''));
      const b = el('button', 'fault-btn', (f.active ? 'Clear ' : 'Inject ') + f.label);
      b.type = 'button';
      b.dataset.fault = f.name;
      b.setAttribute('aria-pressed', f.active ? 'true' : 'false');
      b.addEventListener('click', () => setFault(b, f.name, !f.active, f.label));
      li.append(b, el('div', 'fault-does', f.does));
      return li;
    }));
  }
  async function setFault(btn, name, on, label) {
    btn.disabled = true;
    status((on ? 'Injecting ' : 'Clearing ') + (label || 'every fault') + ' …');
    const r = await call('api/faults', { name, on });
    status(r.ok ? (on ? label + ' injected: give Prometheus ~20 s, then /perf assess' : 'Cleared ' + (label || 'every fault')) : r.error, !r.ok);
    btn.disabled = false;
    loadFaults();
  }
  $('fault-clear').addEventListener('click', (e) => setFault(e.target, '', false, ''));

  // Emoji: without an emoji font they would be empty boxes, so the page shows their :names: instead.
  function emojiFont() {
    try {
      const c = document.createElement('canvas');
      c.width = c.height = 24;
      const g = c.getContext('2d');
      g.textBaseline = 'top';
      g.font = '20px sans-serif';
      g.fillText('📌', 0, 0);
      const d = g.getImageData(0, 0, 24, 24).data;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] > 0 && (Math.abs(d[i] - d[i + 1]) > 30 || Math.abs(d[i + 1] - d[i + 2]) > 30)) return true;
      }
    } catch (e) { /* no canvas: assume a font */ return true; }
    return false;
  }
  document.body.classList.toggle('no-emoji', !emojiFont());

  poll();
  setInterval(poll, 1000);
})();
