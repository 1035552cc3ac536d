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
    history.replaceState(null, '', '?' + q);
    renderUsers(st.users || [], sel.user);
    renderChannels(st.channels || [], sel.channel);
    const ch = st.channel || {};
    $('chan-name').textContent = ch.kind === 'im' ? ch.name : (ch.kind === 'private' ? '🔒 ' : '# ') + (ch.name || '');
    $('chan-topic').textContent = ch.topic || '';
    renderMessages(st.messages || '');
    renderCanvases(st.canvases || [], st.names || {});
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
    $('channels').replaceChildren(...chans.map((c) => {
      const b = el('button', 'chan' + (c.id === current ? ' active' : ''));
      b.type = 'button';
      b.textContent = (c.kind === 'im' ? '● ' : c.kind === 'private' ? '🔒 ' : '# ') + c.name;
      b.addEventListener('click', () => { sel.channel = c.id; version = ''; poll(); });
      return b;
    }));
  }

  function renderMessages(html) {
    const box = $('messages');
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
    box.innerHTML = html; // server-rendered HTML, every text escaped there
    box.querySelectorAll('time[data-ts]').forEach((t) => {
      const d = new Date(parseFloat(t.dataset.ts) * 1000);
      t.textContent = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
      t.title = d.toString();
    });
    box.querySelectorAll('.thread[data-thread]').forEach((t) => {
      t.classList.toggle('open', openThreads.has(sel.channel + ' ' + t.dataset.thread));
    });
    if (atBottom || shownChannel !== sel.channel) box.scrollTop = box.scrollHeight;
    shownChannel = sel.channel;
  }

  // Canvases: a small Markdown renderer that builds DOM nodes, so nothing is parsed as HTML.
  function renderCanvases(canvases, names) {
    const pane = $('canvas');
    pane.hidden = canvases.length === 0;
    document.body.classList.toggle('with-canvas', canvases.length > 0);
    pane.replaceChildren(...canvases.map((cv) => {
      const sec = el('section', 'canvas');
      sec.append(el('div', 'canvas-label', 'Canvas'));
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

  const inlineRe = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\[[^\]]+\]\([^)\s]+\))|(<[@#!][^>]+>)|(\b_[^_]+_\b)|(\*[^*\s][^*]*\*)/g;

  function inline(parent, text, names) {
    let last = 0;
    for (const m of text.matchAll(inlineRe)) {
      parent.append(text.slice(last, m.index));
      last = m.index + m[0].length;
      const s = m[0];
      if (m[1]) parent.append(el('code', '', s.slice(1, -1)));
      else if (m[2]) parent.append(el('strong', '', s.slice(2, -2)));
      else if (m[3]) parent.append(link(s, names));
      else if (m[4]) parent.append(mention(s.slice(1, -1), names));
      else if (m[5]) parent.append(el('em', '', s.slice(1, -1)));
      else parent.append(el('em', '', s.slice(1, -1)));
    }
    parent.append(text.slice(last));
    return parent;
  }

  function link(s, names) {
    const m = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(s);
    if (!/^(https?:|mailto:)/i.test(m[2])) return document.createTextNode(s);
    const a = el('a', '', m[1]);
    a.href = m[2];
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    return a;
  }

  function mention(ref, names) {
    const [id, label] = ref.split('|');
    const sigil = id[0] === '#' ? '#' : '@';
    const name = names[id.slice(1)] || label || id.slice(1);
    return el('span', 'mention', sigil + name.replace(/^[@#]/, ''));
  }

  $('user').addEventListener('change', (e) => { sel.user = e.target.value; version = ''; poll(); });

  $('composer').addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = $('text');
    const text = input.value.trim();
    if (!text) return;
    status('Sending ' + text + ' …');
    const r = await call('api/send', { user: sel.user, channel: sel.channel, text });
    if (r.ok) {
      input.value = '';
      status('');
    } else {
      status(r.error, true);
    }
    poll();
  });

  $('messages').addEventListener('click', async (e) => {
    const toggle = e.target.closest('button[data-toggle]');
    if (toggle) {
      const t = toggle.closest('.thread');
      const key = sel.channel + ' ' + t.dataset.thread;
      if (t.classList.toggle('open')) openThreads.add(key); else openThreads.delete(key);
      return;
    }
    const btn = e.target.closest('button[data-action], button[data-pin]');
    const msg = btn && btn.closest('.msg[data-ts]');
    if (!msg) return;
    const body = { user: sel.user, channel: sel.channel, ts: msg.dataset.ts };
    let path = 'api/pin';
    if (btn.dataset.action !== undefined) {
      if (btn.dataset.confirm && !window.confirm(btn.dataset.confirm)) return;
      if (btn.dataset.url) window.open(btn.dataset.url, '_blank', 'noopener');
      path = 'api/click';
      body.action_id = btn.dataset.action;
    }
    btn.disabled = true;
    const r = await call(path, body);
    status(r.ok ? '' : r.error, !r.ok);
    btn.disabled = false;
    poll();
  });

  poll();
  setInterval(poll, 1000);
})();
