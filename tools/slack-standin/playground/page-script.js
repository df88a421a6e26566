/*
 * The page's glue, as browser JavaScript: fetch the state, keep it live over Server-Sent
 * Events, turn the renderer's trees into DOM nodes, and send commands and clicks. It runs
 * after `renderer` (see render.ts) and `config` are defined. Message text only ever becomes
 * text nodes; nothing here assigns HTML.
 */
/* global renderer, config */
'use strict';
var doc = document;
var byId = function (id) { return doc.getElementById(id); };
var state = null;
var openThread = null;
var stickNext = true;
var commandHistory = [];
var historyAt = 0;
var rendered = new WeakMap();
var showingHome = false;

function build(node) {
  if (typeof node === 'string') return doc.createTextNode(node);
  var el = doc.createElement(node.tag);
  if (node.cls) el.className = node.cls;
  var attrs = node.attrs || {};
  Object.keys(attrs).forEach(function (name) {
    // The renderer never makes event handlers; refusing them here keeps it that way.
    if (!/^on/i.test(name)) el.setAttribute(name, attrs[name]);
  });
  (node.kids || []).forEach(function (kid) { el.appendChild(build(kid)); });
  return el;
}

// Rows are replaced only when what they show changed, so an edited message changes in
// place and the rest of the channel (and a half-read thread) stays put.
function reconcile(container, items) {
  var old = new Map();
  Array.prototype.forEach.call(container.children, function (child) {
    var seen = rendered.get(child);
    if (seen) old.set(seen.key, child);
  });
  var prev = null;
  items.forEach(function (item) {
    var sig = JSON.stringify(item.node);
    var el = old.get(item.key);
    old.delete(item.key);
    if (!el || rendered.get(el).sig !== sig) {
      var fresh = build(item.node);
      rendered.set(fresh, { key: item.key, sig: sig });
      if (el) el.replaceWith(fresh);
      el = fresh;
    }
    var want = prev ? prev.nextSibling : container.firstChild;
    if (want !== el) container.insertBefore(el, want);
    prev = el;
  });
  old.forEach(function (el) { el.remove(); });
}

function nearBottom(scroller) {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
}

function timeOf(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
}

function render() {
  var ctx = renderer.contextOf(state);
  doc.title = '#' + state.channel.name + ' · ' + state.title;
  byId('workspace').textContent = state.title;
  byId('channel-name').textContent = '# ' + state.channel.name;
  byId('side-channel').textContent = state.channel.name;
  byId('intro-channel').textContent = '#' + state.channel.name;
  byId('thread-channel').textContent = '#' + state.channel.name;
  byId('composer').placeholder = 'Message #' + state.channel.name + ' — try ' + config.example;

  var banner = byId('banner');
  banner.hidden = state.banner === null;
  banner.replaceChildren();
  if (state.banner !== null) banner.appendChild(build(renderer.mrkdwn(state.banner, ctx)));

  var notes = byId('notes');
  notes.hidden = state.notes.length === 0;
  notes.replaceChildren.apply(notes, state.notes.map(function (note) {
    return build({ tag: 'li', attrs: { 'data-testid': 'note' }, kids: [
      { tag: 'span', cls: 'note-time', kids: [timeOf(note.at)] }, renderer.mrkdwn(note.text, ctx)] });
  }));

  renderLagbot(state.lagbot);
  renderHome(ctx);

  var scroller = byId('scroller');
  var stick = stickNext || nearBottom(scroller);
  reconcile(byId('messages'), renderer.timeline(state));
  if (stick) scroller.scrollTop = scroller.scrollHeight;
  stickNext = false;
  renderThread();
  renderModal();
}

function renderLagbot(status) {
  var dot = byId('lagbot-dot');
  var text = byId('lagbot-status');
  var failedLast = status.failedAt !== null && (status.answeredAt === null || status.failedAt >= status.answeredAt);
  dot.className = 'dot' + (failedLast ? ' down' : status.recent ? ' ok' : '');
  text.setAttribute('data-state', failedLast ? 'down' : status.recent ? 'answering' : 'quiet');
  text.textContent = failedLast ? 'lagbot is not answering'
    : status.recent ? 'lagbot is answering'
    : status.answeredAt === null ? 'lagbot: not heard from yet' : 'lagbot: quiet since ' + timeOf(status.answeredAt);
}

// lagbot's Home tab: the blocks it last published for the viewer (views.publish).
function renderHome(ctx) {
  var home = state.home;
  byId('home-empty').hidden = home !== null;
  byId('home-updated').textContent = home ? 'published ' + timeOf(home.publishedAt) : '';
  byId('home-blocks').replaceChildren.apply(byId('home-blocks'), home ? renderer.blocks(home.blocks, ctx).map(build) : []);
}

function showPane(home) {
  showingHome = home;
  byId('home-pane').hidden = !home;
  byId('channel-pane').hidden = home;
  byId('side-home-item').classList.toggle('active', home);
  byId('side-channel-item').classList.toggle('active', !home);
  if (home) {
    openThread = null;
    renderThread();
  }
}

// Opening the tab is what makes Slack send app_home_opened; lagbot answers with views.publish.
function openHome() {
  showPane(true);
  post('/playground/home', {}).then(function (answer) {
    if (!answer.ok && showingHome) byId('home-updated').textContent = answer.error || 'lagbot did not answer';
  });
}

byId('side-home-item').addEventListener('click', openHome);
byId('side-channel-item').addEventListener('click', function () {
  showPane(false);
  byId('composer').focus();
});

// A modal lagbot opened for the viewer (views.open): its one user picker, drawn like Slack's.
// The options are rebuilt only for a new modal, so a redraw keeps what the viewer picked.
var modalShown = null;
function renderModal() {
  var modal = state.modal;
  byId('modal').hidden = modal === null;
  if (modal === null) { modalShown = null; return; }
  if (modalShown !== modal.id) {
    modalShown = modal.id;
    byId('modal-title').textContent = modal.title;
    byId('modal-label').textContent = modal.label;
    byId('modal-hint').textContent = modal.hint || '';
    byId('modal-submit').textContent = modal.submit;
    byId('modal-close').textContent = modal.close;
    var select = byId('modal-people');
    select.multiple = modal.multiple;
    select.size = modal.multiple ? Math.min(6, Math.max(2, modal.people.length)) : 1;
    select.replaceChildren.apply(select, modal.people.map(function (p) {
      var option = doc.createElement('option');
      option.value = p.id;
      option.textContent = '@' + p.name;
      return option;
    }));
    if (!modal.multiple) select.selectedIndex = -1;
  }
  byId('modal-error').hidden = modal.error === null;
  byId('modal-error').textContent = modal.error || '';
}

byId('modal-form').addEventListener('submit', function (event) {
  event.preventDefault();
  if (!state || !state.modal) return;
  var users = Array.prototype.filter.call(byId('modal-people').options, function (o) { return o.selected; }).map(function (o) { return o.value; });
  byId('modal-submit').disabled = true;
  post('/playground/modal', { viewId: state.modal.id, users: users }).then(function (answer) {
    byId('modal-submit').disabled = false;
    if (!answer.ok) {
      byId('modal-error').hidden = false;
      byId('modal-error').textContent = answer.error || 'the form was not sent';
    }
  });
});

byId('modal-close').addEventListener('click', function () {
  if (state && state.modal) post('/playground/modal/close', { viewId: state.modal.id });
});

function renderThread() {
  var panel = byId('thread-panel');
  var view = openThread !== null && state ? renderer.threadView(state, openThread) : null;
  if (!view) {
    openThread = null;
    panel.hidden = true;
    doc.body.classList.remove('thread-open');
    return;
  }
  var wasHidden = panel.hidden;
  panel.hidden = false;
  doc.body.classList.add('thread-open');
  var scroller = byId('thread-scroll');
  var stick = wasHidden || nearBottom(scroller);
  reconcile(byId('thread-root'), [view.root]);
  var n = view.replies.length;
  byId('thread-count').textContent = n === 1 ? '1 reply' : n + ' replies';
  reconcile(byId('thread-replies'), view.replies);
  if (stick) scroller.scrollTop = scroller.scrollHeight;
}

// One fetch at a time; changes that arrive meanwhile fold into one more fetch after it.
var fetching = false;
var again = false;
function refresh() {
  if (fetching) { again = true; return; }
  fetching = true;
  fetch('/playground/state', { cache: 'no-store' })
    .then(function (res) {
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return res.json();
    })
    .then(function (next) { state = next; render(); })
    .catch(function () { setConnection('offline'); })
    .finally(function () {
      fetching = false;
      if (again) { again = false; refresh(); }
    });
}

function setConnection(kind) {
  var el = byId('connection');
  el.setAttribute('data-state', kind);
  el.textContent = kind === 'live' ? 'live' : kind === 'reconnecting' ? 'reconnecting…' : 'offline';
}

var source = null;
function connect() {
  source = new EventSource('/playground/events');
  // Whatever changed while the stream was down is fetched again on every (re)connect.
  source.addEventListener('open', function () { setConnection('live'); refresh(); });
  source.addEventListener('message', function () { refresh(); });
  source.addEventListener('error', function () {
    setConnection('reconnecting');
    // EventSource retries by itself, except after an answer that was not an event stream.
    if (source.readyState === EventSource.CLOSED) {
      source.close();
      setTimeout(connect, 2000);
    }
  });
}

function post(path, body) {
  return fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
    .then(function (res) {
      return res.json().catch(function () { return { ok: false, error: 'the playground answered HTTP ' + res.status }; });
    })
    .catch(function () { return { ok: false, error: 'the playground is not answering (is the demo running?)' }; });
}

function showNote(kind, text, asMrkdwn) {
  var note = byId('composer-note');
  note.hidden = false;
  note.setAttribute('data-kind', kind);
  note.replaceChildren(asMrkdwn && state ? build(renderer.mrkdwn(text, renderer.contextOf(state))) : doc.createTextNode(text));
}

function clearNote() {
  var note = byId('composer-note');
  note.hidden = true;
  note.replaceChildren();
}

byId('composer-form').addEventListener('submit', function (event) {
  event.preventDefault();
  var input = byId('composer');
  var line = input.value.trim();
  if (line === '') return;
  var match = /^\/lag(?:\s+([\s\S]*))?$/.exec(line);
  if (!match) {
    showNote('hint', config.hint, true);
    return;
  }
  commandHistory.push(line);
  historyAt = commandHistory.length;
  showNote('pending', 'Sending ' + line + ' …', false);
  post('/playground/command', { text: (match[1] || '').trim() }).then(function (answer) {
    if (answer.ok) {
      if (input.value.trim() === line) input.value = '';
      clearNote();
      stickNext = true;
    } else {
      showNote('error', answer.error || 'the command failed', false);
    }
  });
});

byId('composer').addEventListener('keydown', function (event) {
  if (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') return;
  if (commandHistory.length === 0) return;
  historyAt = Math.max(0, Math.min(commandHistory.length, historyAt + (event.key === 'ArrowUp' ? -1 : 1)));
  event.target.value = commandHistory[historyAt] || '';
  event.preventDefault();
});

function clickButton(button) {
  var message = button.closest('[data-ts]');
  if (!message) return;
  var prompt = button.getAttribute('data-confirm');
  if (prompt !== null && !window.confirm(prompt)) return;
  var body = {
    channel: message.getAttribute('data-channel'),
    ts: message.getAttribute('data-ts'),
    actionId: button.getAttribute('data-action-id'),
    ephemeral: message.getAttribute('data-ephemeral') === 'true',
  };
  var value = button.getAttribute('data-value');
  if (value !== null) body.value = value;
  button.disabled = true;
  post('/playground/click', body).then(function (answer) {
    button.disabled = false;
    if (answer.ok) clearNote();
    else showNote('error', answer.error || 'the click failed', false);
  });
}

doc.addEventListener('click', function (event) {
  var target = event.target;
  if (!(target instanceof Element)) return;
  var button = target.closest('button[data-action-id]');
  if (button) { clickButton(button); return; }
  var link = target.closest('[data-thread-ts]');
  if (link) {
    openThread = link.getAttribute('data-thread-ts');
    renderThread();
    return;
  }
  if (target.closest('[data-testid="thread-close"]')) {
    openThread = null;
    renderThread();
  }
});

doc.addEventListener('keydown', function (event) {
  if (event.key === 'Escape' && openThread !== null) {
    openThread = null;
    renderThread();
  }
});

refresh();
connect();
byId('composer').focus();
