// Secret chats in the app: end-to-end encrypted conversations with one
// person, kept only on this device (secret-device.js holds the keys, the
// sessions and the messages). This module starts the device when the app
// starts, lists the secret chats for the sidebar, and shows one: its
// messages with their delivery state, the self-destruct timer, the safety
// number to compare, and reporting a message with its franking proof.
import { errorText } from './api.js';
import { t, language } from './i18n.js';
import {
  h, replace, icon, iconButton, avatar, formatTime, formatDateTime, menu, field, openDialog, confirmDialog, showError, toast,
} from './dom.js';
import { store, on, emit, userName, lookupUser, learnName } from './store.js';
import { navigate } from './nav.js';
import { reportDialog as fileReport } from './report.js';

const maxComment = 500; // the server's limit for a secret-chat report's comment

let device = null; // the SecretDevice of the logged-in session, once open
let ready = null; // the promise of it (null where secret chats are not available)
let generation = 0; // bumped by every start and stop, so that a late open is undone
let ended = 0; // bumped when a session ends: a late open then deletes what it opened
let failure = null; // why the device could not be opened, until it is tried again
let supportedCheck = null;
const chats = new Map(); // peer user ID -> chat record

// The device and its cryptography (secret-device.js and what it imports,
// the app's largest modules) are fetched with import() once the app has
// started, rather than before its first screen: lib is that module once
// loaded, which it is whenever a device is open.
let lib = null;
let libLoad = null;

function loadLib() {
  if (!libLoad) {
    libLoad = import('./secret-device.js').then((m) => { lib = m; return m; });
    libLoad.catch(() => { libLoad = null; }); // the next use tries again
  }
  return libLoad;
}

// secretSupported resolves to whether this browser can hold secret chats.
export function secretSupported() {
  if (!supportedCheck) {
    supportedCheck = loadLib().then((m) => m.supported().catch(() => false));
    supportedCheck.catch(() => { supportedCheck = null; }); // not loaded: ask again next time
  }
  return supportedCheck.catch(() => false);
}

function quiet(err) {
  console.warn('secret chats:', err); // not an error a person can act on: the next nudge tries again
}

// startSecret opens this session's device once the app has started: it
// lists the secret chats and, if the device has used secret chats before,
// keeps its keys current and fetches what arrived while the app was closed.
export function startSecret() {
  const gen = ++generation;
  const session = ended;
  if (device) { // started again (after a withdrawn market's retry): one device per tab
    device.close();
    device = null;
  }
  const me = store.me;
  failure = null;
  ready = (async () => {
    if (!(await secretSupported())) return null;
    const d = await (await loadLib()).SecretDevice.open(me);
    if (gen !== generation) { // logged out, or started again, meanwhile
      d.close();
      if (session !== ended) await lib.forgetDevice(d.name);
      return null;
    }
    device = d;
    d.onChange(onDeviceChange);
    await loadChats();
    (async () => {
      if (!(await d.hasKeys())) return;
      await d.register(); // rotates the signed prekey, replenishes one-time prekeys
      await d.receive();
      await d.resume();
    })().catch(quiet);
    return d;
  })().catch((err) => {
    // Offline, or the server failed: the next reconnection tries again.
    if (gen === generation) failure = err;
    quiet(err);
    return null;
  });
}

// stopSecret ends the device when the session ends, deleting its keys and
// messages from this browser: also when no device was open in this tab (a
// suspended account's, or one that had not opened yet).
export function stopSecret() {
  generation++;
  ended++;
  const d = device;
  device = null;
  ready = null;
  failure = null;
  chats.clear();
  if (d) d.close();
  loadLib().then((m) => m.forgetDevices()).catch(quiet);
}

// secretNudge handles the live stream's nudges: envelopes wait (also after
// every reconnection, since nudges sent meanwhile are lost), or the
// one-time prekeys run low.
export function secretNudge(type) {
  if (!ready) return;
  if (failure && !device) {
    startSecret();
    return;
  }
  ready.then(async (d) => {
    if (!d) return;
    if (type === 'secret_keys_low') {
      await d.register();
      return;
    }
    await d.receive();
    await d.resume();
  }).catch(quiet);
}

async function loadChats() {
  if (!device) return;
  const list = await device.chats();
  chats.clear();
  for (const c of list) {
    chats.set(c.peer, c);
    learnPeer(c.peer);
  }
  emit('dialogs');
}

function onDeviceChange(peers) {
  loadChats().catch(quiet);
  emit('secret', peers);
}

// learnPeer looks up the name of a peer the app has not met, through the
// private chat with them, if there is one.
function learnPeer(peer) {
  if (store.users.has(peer)) return;
  for (const d of store.dialogs.values()) {
    if (d.chat.kind === 'private' && d.chat.peer_id === peer) learnName(d.chat.id, peer);
  }
}

// peerName is how the peer is shown; peerHandle how the notes name them
// (@username where known).
function peerName(peer) {
  const c = chats.get(peer);
  if (!store.users.has(peer) && c && c.name) return c.name.display_name || `@${c.name.username}`;
  return userName(peer);
}

function peerHandle(peer) {
  const u = store.users.get(peer);
  const c = chats.get(peer);
  const username = (u && u.username) || (c && c.name && c.name.username);
  return username ? `@${username}` : peerName(peer);
}

// withName fills a message's {name} with a person's name isolated in a
// <bdi>, so that "@username" reads right inside right-to-left text.
function withName(template, name) {
  return template.split('{name}').flatMap((part, i) => (i ? [h('bdi', {}, name), part] : [part]));
}

// secretDialogs are the secret chats for the chat list: {peer, title,
// last: {text, at, own}, unread, activity (ms)}.
export function secretDialogs() {
  return [...chats.values()].map((c) => ({ peer: c.peer, title: peerName(c.peer), last: c.last, unread: c.unread, activity: c.activity }));
}

// Durations -------------------------------------------------------------------

const units = [['week', 604800], ['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];

// duration names a timer ("5 seconds", "1 week") in the app's language.
function duration(seconds, unitDisplay = 'long') {
  if (!seconds) return t('secret.timer_off');
  const [unit, size] = units.find(([, n]) => seconds % n === 0);
  return new Intl.NumberFormat(language(), { style: 'unit', unit, unitDisplay }).format(seconds / size);
}

// remaining is a short countdown ("4s", "12m").
function remaining(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const [unit, size] = units.find(([, n]) => s >= n) || units[units.length - 1];
  return new Intl.NumberFormat(language(), { style: 'unit', unit, unitDisplay: 'narrow' }).format(Math.ceil(s / size));
}

// Starting a secret chat ------------------------------------------------------------

function unsupportedText() {
  return [h('h2', { tabindex: '-1' }, t('secret.unsupported_title')), h('p', {}, t('secret.unsupported_text'))];
}

// openSecretChat opens the secret chat with a user (from their profile).
export function openSecretChat(userId) {
  navigate(`/secret/${userId}`);
}

// newSecretDialog asks whom to start a secret chat with.
export function newSecretDialog() {
  openDialog(t('secret.new'), (close) => {
    const body = h('div', { class: 'modal-body' });
    secretSupported().then((ok) => {
      if (!ok) {
        replace(body, h('p', { role: 'alert' }, t('secret.unsupported_text')),
          h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', onclick: close }, t('common.close'))));
        return;
      }
      const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
      const btn = h('button', { type: 'submit', class: 'btn primary' }, t('secret.start'));
      const form = h('form', { class: 'stack', novalidate: true },
        h('p', { class: 'muted' }, t('secret.new_text')),
        field(t('new.username'), { name: 'username', required: true, autocomplete: 'off', autocapitalize: 'none', hint: t('new.username_hint') }),
        box,
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', onclick: close }, t('common.cancel')), btn));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const name = String(new FormData(form).get('username') || '').trim().replace(/^@/, '');
        if (!name) {
          showError(form, box, { field: 'username' }, t('auth.fill_in'));
          return;
        }
        btn.disabled = true;
        try {
          const u = await lookupUser(name);
          close();
          openSecretChat(u.id);
        } catch (err) {
          showError(form, box, err.status === 404 ? { field: 'username' } : err,
            err.status === 404 ? t('new.no_user', { name }) : errorText(err));
        } finally {
          btn.disabled = false;
        }
      });
      replace(body, form);
      form.querySelector('input').focus();
    });
    return body;
  });
}

// The conversation ---------------------------------------------------------------

function iso(ms) {
  return new Date(ms).toISOString();
}

// sendError is what to tell a person about a message that could not be sent.
function sendError(err, peer) {
  if (err.reason === 'secret_no_devices') return withName(t('secret.peer_not_ready'), peerHandle(peer));
  if (err.name === 'SecretError') return t('secret.crypto_failed');
  return errorText(err);
}

export function secretConversation(peer) {
  const items = new Map(); // message ID -> {li, m, sig}
  let d = null;
  let chat = null;
  let closed = false;
  let ticker = 0;

  const titleEl = h('h2', { id: 'conv-title', dir: 'auto' });
  const subEl = h('p', { class: 'sub' });
  const avatarBox = h('span', { class: 'secret-avatar' });
  const timerBtn = h('button', { type: 'button', class: 'btn small timer-btn', 'aria-haspopup': 'menu', disabled: true });
  const safetyBtn = iconButton('shield', t('secret.safety'), { disabled: true });
  const deleteBtn = iconButton('trash', t('secret.delete_chat'), { disabled: true });
  const head = h('header', { class: 'conv-head' },
    h('a', { href: '/', class: 'icon-btn back', 'aria-label': t('conv.back'), title: t('conv.back') }, icon('back')),
    avatarBox, h('div', { class: 'conv-titles' }, titleEl, subEl), timerBtn, safetyBtn, deleteBtn);
  const noteText = h('span', {});
  const note = h('p', { class: 'secret-note', role: 'note' }, icon('lock'), noteText);
  const changedBar = h('div', { class: 'secret-changed', role: 'status', hidden: true });
  const peerNotice = h('p', { class: 'secret-peer-notice', role: 'status', hidden: true });
  const top = h('li', { class: 'history-edge' }, t('conv.loading'));
  const list = h('ol', { class: 'messages', role: 'log', 'aria-labelledby': 'conv-title' }, top);
  const scroller = h('div', { class: 'scroller', tabindex: '0', 'aria-label': t('conv.history') }, list);
  const errorBox = h('p', { class: 'composer-error', role: 'alert', id: `serr-${peer}`, hidden: true });
  const counter = h('span', { class: 'counter', hidden: true, 'aria-live': 'polite' });
  const input = h('textarea', {
    name: 'text', rows: '1', class: 'composer-input', 'aria-label': t('secret.composer_label'),
    placeholder: t('secret.placeholder'), 'aria-describedby': `serr-${peer}`, dir: 'auto', disabled: true,
  });
  const sendBtn = h('button', { type: 'submit', class: 'icon-btn send', 'aria-label': t('composer.send'), title: t('composer.send'), disabled: true }, icon('send'));
  const form = h('form', { class: 'composer' }, input, counter, sendBtn);
  const timerNote = h('p', { class: 'timer-note', hidden: true });
  const footer = h('footer', { class: 'conv-foot' }, timerNote, errorBox, form);
  const el = h('section', { class: 'conv secret', 'aria-labelledby': 'conv-title' }, head, note, changedBar, peerNotice, scroller, footer);

  function renderHead() {
    const name = peerName(peer);
    titleEl.textContent = name;
    replace(avatarBox, avatar(name, peer), h('span', { class: 'lock-badge' }, icon('lock')));
    const handle = peerHandle(peer);
    replace(subEl, h('span', {}, t('secret.kind')), handle !== name ? [' · ', h('bdi', {}, handle)] : null);
    replace(noteText, ...withName(t('secret.e2e'), handle));
    document.title = t('app.title_chat', { title: name });
    const timer = chat ? chat.timer : 0;
    replace(timerBtn, icon('timer'), h('span', { 'aria-hidden': 'true' }, timer ? duration(timer, 'narrow') : t('secret.timer_off')));
    timerBtn.setAttribute('aria-label', t('secret.timer_label', { time: duration(timer) }));
    timerBtn.title = t('secret.timer_label', { time: duration(timer) });
    timerNote.hidden = !timer;
    timerNote.textContent = timer ? t('secret.timer_on', { time: duration(timer) }) : '';
    changedBar.hidden = !(chat && chat.changed);
    if (chat && chat.changed) {
      replace(changedBar, h('p', {}, withName(t('secret.changed'), handle)),
        h('button', { type: 'button', class: 'btn small', onclick: () => safetyDialog() }, t('secret.verify')));
    }
  }

  // Messages ----------------------------------------------------------------
  function signature(m) {
    return [m.state, m.reported, m.expireAt, m.devices].join('|');
  }

  function stateEl(m) {
    if (m.state === 'sending') return h('span', { class: 'state sending' }, t('secret.state_sending'));
    if (m.state === 'failed') {
      return [h('span', { class: 'state failed', title: m.error || '' }, t('secret.state_failed')),
        h('button', { type: 'button', class: 'btn small retry', onclick: () => retry(m) }, t('common.retry'))];
    }
    return h('span', { class: 'state sent', title: t('secret.state_sent_title', { count: m.devices || 1 }) }, t('secret.state_sent'));
  }

  function expiresEl(m) {
    if (!m.expire) return null;
    const left = m.expireAt ? remaining(m.expireAt - Date.now()) : duration(m.expire, 'narrow');
    return h('span', { class: 'expires', title: t('secret.expires_title', { time: duration(m.expire) }) },
      icon('timer'), h('span', { class: 'left' }, left),
      h('span', { class: 'sr' }, t('secret.expires_title', { time: duration(m.expire) })));
  }

  function renderMeta(m) {
    const at = iso(m.at);
    return h('div', { class: 'meta' },
      expiresEl(m),
      m.reported ? h('span', { class: 'reported' }, t('secret.reported')) : null,
      h('time', { datetime: at, title: formatDateTime(at) }, formatTime(at)),
      m.own ? stateEl(m) : null);
  }

  function renderMsg(m) {
    const more = iconButton('more', t('msg.actions'), { class: 'icon-btn more', 'aria-haspopup': 'menu' });
    more.addEventListener('click', () => actions(m.id, more));
    return h('li', { class: `msg${m.own ? ' own' : ''}`, dataset: { id: m.id } },
      h('div', { class: 'bubble' }, h('div', { class: 'text', dir: 'auto' }, m.text), renderMeta(m)), more);
  }

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  }

  function toBottom() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  let loading = null;
  let again = false;
  // load shows the chat's messages as stored, changing only what changed.
  async function load() {
    if (loading) {
      again = true;
      return loading;
    }
    loading = (async () => {
      do {
        again = false;
        chat = await d.chat(peer);
        const msgs = await d.messages(peer);
        if (closed) return;
        renderHead();
        reconcile(msgs);
        markVisible(msgs);
      } while (again && !closed);
    })().finally(() => { loading = null; });
    return loading;
  }

  function reconcile(msgs) {
    const wasBottom = nearBottom();
    let grew = false;
    const seen = new Set();
    let prev = top;
    for (const m of msgs) {
      seen.add(m.id);
      let it = items.get(m.id);
      const sig = signature(m);
      if (!it) {
        it = { li: renderMsg(m), m, sig };
        items.set(m.id, it);
        grew = true;
      } else if (it.sig !== sig) {
        // Only the line under the text changes: a screen reader hears
        // "Sent", not the whole message again.
        const focused = it.li.contains(document.activeElement) && document.activeElement.closest('.meta');
        it.li.querySelector('.meta').replaceWith(renderMeta(m));
        it.m = m;
        it.sig = sig;
        if (focused) it.li.querySelector('.more').focus();
      }
      if (prev.nextSibling !== it.li) list.insertBefore(it.li, prev.nextSibling);
      prev = it.li;
    }
    for (const [id, it] of items) {
      if (seen.has(id)) continue;
      if (it.li.contains(document.activeElement)) input.focus();
      it.li.remove();
      items.delete(id);
    }
    top.textContent = msgs.length ? '' : t('secret.empty');
    if (grew && (wasBottom || msgs[msgs.length - 1]?.own)) toBottom();
  }

  // markVisible starts the timers of received messages now on screen and
  // marks the chat read.
  function markVisible(msgs = [...items.values()].map((it) => it.m)) {
    if (document.hidden || closed) return;
    const ids = msgs.filter((m) => !m.own && !m.shownAt).map((m) => m.id);
    if (ids.length) d.markShown(ids).catch(quiet);
    if (chat && chat.unread) d.markRead(peer).catch(quiet);
  }

  // tick counts down the self-destruct timers, and takes away at once what
  // has expired (the device deletes it from storage).
  function tick() {
    const now = Date.now();
    for (const [id, it] of items) {
      if (!it.m.expireAt) continue;
      if (it.m.expireAt <= now) {
        if (it.li.contains(document.activeElement)) input.focus();
        it.li.remove();
        items.delete(id);
        continue;
      }
      const left = it.li.querySelector('.expires .left');
      if (left) left.textContent = remaining(it.m.expireAt - now);
    }
    if (!items.size && top.textContent === '') top.textContent = t('secret.empty');
  }

  // Actions -------------------------------------------------------------------
  function actions(id, anchor) {
    const it = items.get(id);
    if (!it) return;
    const m = it.m;
    const list = [];
    if (m.own && m.state === 'failed') list.push({ label: t('common.retry'), action: () => retry(m) });
    if (!m.own && !m.reported) list.push({ label: t('report.action'), name: 'report', action: () => reportDialog(m, anchor), danger: true });
    list.push({ label: t('msg.delete_me'), name: 'delete', action: () => remove(m), danger: true });
    menu(anchor, t('msg.actions'), list);
  }

  async function retry(m) {
    try {
      await d.retry(m.id);
    } catch (err) {
      toast(sendError(err, peer), { error: true });
    }
  }

  async function remove(m) {
    try {
      await d.remove(m.id);
      input.focus();
    } catch (err) {
      toast(errorText(err), { error: true });
    }
  }

  function reportDialog(m, returnTo) {
    fileReport(null, {
      title: t('report.title_message'),
      what: t('report.what_message', { name: peerName(peer), text: m.text.split('\n')[0].slice(0, 200) }),
      note: withName(t('secret.report_reveal'), peerHandle(peer)),
      returnTo,
      file: (reason, comment) => d.report(m.id, reason, comment),
      limit: maxComment,
      sent: withName(t('secret.report_sent'), peerHandle(peer)),
    });
  }

  function safetyDialog() {
    const handle = peerHandle(peer);
    const dlg = openDialog(withName(t('secret.safety_title'), handle), () => {
      const status = h('p', { class: 'muted', 'aria-live': 'polite' }, t('secret.safety_loading'));
      const body = h('div', { class: 'modal-body safety' }, h('p', {}, withName(t('secret.safety_text'), handle)), status);
      d.safetyNumbers(peer).then((list) => {
        if (!list.length) {
          replace(status, ...withName(t('secret.peer_not_ready'), handle));
          return;
        }
        status.remove();
        list.forEach((s, i) => {
          const label = list.length > 1 ? t('secret.safety_device', { n: i + 1 }) : t('secret.safety_number');
          body.append(h('section', { class: 'safety-device' },
            h('h3', {}, label),
            h('p', { class: 'safety-number', dir: 'ltr', 'aria-label': `${label}: ${s.number}` },
              ...s.number.split(' ').map((g) => h('span', { 'aria-hidden': 'true' }, g))),
            // A key the chat holds that the server no longer lists: its
            // messages may not have come from the peer.
            s.listed ? null : h('p', { class: 'safety-unlisted', role: 'note' }, withName(t('secret.safety_unlisted'), handle)),
            s.listed && !s.session ? h('p', { class: 'muted' }, t('secret.safety_no_session')) : null));
        });
        body.append(h('p', { class: 'muted' }, t('secret.safety_mismatch')));
      }, (err) => {
        status.classList.add('form-error');
        status.textContent = errorText(err);
      });
      return body;
    }, { focusField: false });
    dlg.addEventListener('close', () => { if (safetyBtn.isConnected) safetyBtn.focus(); });
  }

  timerBtn.addEventListener('click', () => {
    const current = chat ? chat.timer : 0;
    menu(timerBtn, t('secret.timer'), lib.timers.map((s) => ({
      label: s === current ? t('secret.timer_current', { time: duration(s) }) : duration(s),
      name: `timer-${s}`,
      action: async () => {
        try {
          await d.setTimer(peer, s);
          toast(s ? t('secret.timer_on', { time: duration(s) }) : t('secret.timer_set_off'));
        } catch (err) {
          toast(errorText(err), { error: true });
        }
        input.focus();
      },
    })));
  });
  safetyBtn.addEventListener('click', () => safetyDialog());
  deleteBtn.addEventListener('click', async () => {
    const ok = await confirmDialog(t('secret.delete_chat'), withName(t('secret.delete_chat_text'), peerHandle(peer)), t('msg.delete'), { danger: true });
    if (!ok) return;
    try {
      await d.removeChat(peer);
      navigate('/');
    } catch (err) {
      toast(errorText(err), { error: true });
    }
  });

  // Writing -------------------------------------------------------------------
  function autosize() {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
    const n = [...input.value].length;
    const max = lib.MaxTextLength;
    counter.hidden = n < max - 200;
    counter.textContent = t('composer.count', { count: n, max });
    counter.classList.toggle('over', n > max);
  }

  function showComposerError(text) {
    replace(errorBox, text);
    errorBox.hidden = !text || !text.length;
    if (text) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  input.addEventListener('input', () => {
    autosize();
    if (errorBox.textContent) showComposerError('');
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (sendBtn.disabled || !d) return;
    const text = input.value;
    if (!text.trim()) return;
    if ([...text].length > lib.MaxTextLength) {
      showComposerError(t('secret.too_long', { max: lib.MaxTextLength }));
      return;
    }
    sendBtn.disabled = true;
    form.setAttribute('aria-busy', 'true');
    showComposerError('');
    input.value = '';
    autosize();
    try {
      await d.send(peer, text, chat ? chat.timer : 0);
      peerNotice.hidden = true;
    } catch (err) {
      // Nothing was stored: the text comes back to try again.
      if (!input.value) input.value = text;
      autosize();
      showComposerError(sendError(err, peer));
    } finally {
      sendBtn.disabled = false;
      form.removeAttribute('aria-busy');
      input.focus();
    }
  });

  // Start -------------------------------------------------------------------
  const onVisible = () => { if (d) markVisible(); };
  const offs = [
    on('secret', (peers) => { if (d && (!peers || peers.includes(peer))) load().catch(quiet); }),
    on('users', () => { if (d) renderHead(); }),
  ];
  document.addEventListener('visibilitychange', onVisible);
  window.addEventListener('focus', onVisible);
  renderHead();

  (async () => {
    if (!(await secretSupported())) {
      replace(el, h('section', { class: 'placeholder secret-unsupported' }, icon('lock'), ...unsupportedText(),
        h('a', { href: '/', class: 'btn' }, t('conv.back'))));
      return;
    }
    try {
      d = await ready;
      if (!d && failure) throw failure;
      if (!d || closed) return;
      if (!(await d.hasKeys())) await d.register(); // the first use: this device makes and publishes its keys
      const u = store.users.get(peer);
      chat = await d.ensureChat(peer, u ? { username: u.username, display_name: u.display_name } : null);
      learnPeer(peer);
      if (closed) return;
      await load();
      toBottom();
      for (const b of [timerBtn, safetyBtn, deleteBtn, input, sendBtn]) b.disabled = false;
      ticker = setInterval(tick, 1000);
      if (document.activeElement === document.body || !document.activeElement) input.focus({ preventScroll: true });
      const devices = await d.devices(peer);
      if (!closed && !devices.length) {
        replace(peerNotice, ...withName(t('secret.peer_not_ready'), peerHandle(peer)));
        peerNotice.hidden = false;
      }
    } catch (err) {
      if (closed) return;
      replace(el, h('section', { class: 'placeholder' },
        h('h2', { tabindex: '-1' }, t('secret.unavailable')),
        h('p', { role: 'alert' }, err.name === 'SecretError' ? t('secret.crypto_failed') : errorText(err)),
        h('a', { href: '/', class: 'btn' }, t('conv.back'))));
    }
  })();

  return {
    el,
    chatId: 0,
    focus: () => input.focus({ preventScroll: true }),
    leave: () => {
      closed = true;
      clearInterval(ticker);
      for (const off of offs) off();
      document.removeEventListener('visibilitychange', onVisible);
      window.removeEventListener('focus', onVisible);
      document.title = t('app.title');
    },
  };
}
