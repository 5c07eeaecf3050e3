// What the app knows: who is logged in, the chat list with unread counts
// and last messages, and the names of the users it has met. Changes from
// the live stream go through applyEvent, which keeps the chat list current
// and tells the screens (on('dialogs'), on('event')). Names come from the
// chats' member lists: on('users') says that some are new.
import { api, newKey } from './api.js';
import { t } from './i18n.js';

const listeners = new Map();
const usersKey = 'kurir.users';
const draftPrefix = 'kurir.draft.';

export const store = {
  me: null,
  dialogs: new Map(), // chat ID -> {chat, last, unread, activity}
  users: new Map(), // user ID -> {id, username, display_name}
  openChat: 0, // the chat on screen, whose new messages are read at once
  live: null,
};

export function on(topic, fn) {
  if (!listeners.has(topic)) listeners.set(topic, new Set());
  listeners.get(topic).add(fn);
  return () => listeners.get(topic).delete(fn);
}

export function emit(topic, arg) {
  for (const fn of listeners.get(topic) || []) fn(arg);
}

// Tabs of the app share what the server does not send live: read marks and
// messages deleted only for this user.
const channel = 'BroadcastChannel' in window ? new BroadcastChannel('kurir') : null;
if (channel) {
  channel.onmessage = (e) => {
    const m = e.data || {};
    if (!store.me || m.user !== store.me.id) return;
    if (m.type === 'read') readLocally(m.chat, m.seq);
    if (m.type === 'hidden') emit('hidden', m);
  };
}

export function broadcast(msg) {
  if (channel && store.me) channel.postMessage({ ...msg, user: store.me.id });
}

export function reset() {
  store.me = null;
  store.dialogs.clear();
  store.users.clear();
  store.openChat = 0;
  forgetNames();
}

// Users --------------------------------------------------------------------

export function loadUsers() {
  try {
    for (const u of JSON.parse(localStorage.getItem(usersKey) || '[]')) store.users.set(u.id, u);
  } catch {
    localStorage.removeItem(usersKey);
  }
}

export function rememberUser(u) {
  rememberUsers([u]);
}

// rememberUsers records names ({id, username, display_name}); the most
// recently seen 500 are kept for the next visit.
export function rememberUsers(list) {
  let changed = false;
  for (const u of list) {
    const old = store.users.get(u.id);
    if (!old || old.username !== u.username || old.display_name !== u.display_name) changed = true;
    store.users.delete(u.id); // to the end: the most recently seen
    store.users.set(u.id, { id: u.id, username: u.username, display_name: u.display_name });
  }
  if (!list.length) return;
  localStorage.setItem(usersKey, JSON.stringify([...store.users.values()].slice(-500)));
  if (changed) {
    emit('users');
    emit('dialogs');
  }
}

// userName is how a person is shown: their display name, else @username,
// else "User 17" for one the app has not met.
export function userName(id) {
  if (store.me && id === store.me.id) return store.me.display_name || store.me.username;
  const u = store.users.get(id);
  if (u && u.display_name) return u.display_name;
  if (u && u.username) return `@${u.username}`;
  return t('user.unknown', { id });
}

// lookupUser finds a user by @username and remembers the name.
export async function lookupUser(name) {
  const u = await api('GET', `/users/${encodeURIComponent(name.trim().replace(/^@/, ''))}`);
  rememberUser(u);
  return u;
}

// Members ------------------------------------------------------------------
// Messages and chats name people by user ID only; a chat's member list
// (GET /chats/{id}/members, to its members) tells their names. A chat's list
// is fetched once (the first 1,000, by user ID) and kept until someone joins
// or leaves; someone not in it, such as a late joiner of a big group, is
// looked up alone: the one member after their ID minus one.

const memberPage = 200; // the server's cap on a page
const maxMembers = 1000;
let memberLists = new Map(); // chat ID -> Promise of {members, complete}
let asked = new Set(); // "chat:user" looked up alone already
let generation = 0; // bumped at logout, so that late answers are dropped
let lookups = []; // waiting single lookups
let running = 0;

function forgetNames() {
  generation++;
  memberLists = new Map();
  asked = new Set();
  lookups = [];
}

function asUser(m) {
  return { id: m.user_id, username: m.username || '', display_name: m.display_name || '' };
}

// chatMembers resolves to a chat's members ({members, complete}; complete is
// false when there were more than shown), remembering their names.
export function chatMembers(chatId) {
  let p = memberLists.get(chatId);
  if (!p) {
    const gen = generation;
    p = (async () => {
      const members = [];
      let after = 0;
      while (members.length < maxMembers) {
        const r = await api('GET', `/chats/${chatId}/members?limit=${memberPage}${after ? `&after=${after}` : ''}`);
        if (gen !== generation) throw new Error('logged out');
        members.push(...r.members);
        rememberUsers(r.members.map(asUser));
        if (r.members.length < memberPage) return { members, complete: true };
        after = r.members[r.members.length - 1].user_id;
      }
      return { members, complete: false };
    })();
    memberLists.set(chatId, p);
    p.catch(() => { if (memberLists.get(chatId) === p) memberLists.delete(chatId); });
  }
  return p;
}

// membersChanged drops a chat's member list, to be fetched afresh.
function membersChanged(chatId) {
  memberLists.delete(chatId);
  emit('members', chatId);
}

// learnName looks up the name of a member of a chat that the app does not
// know yet, a few lookups at a time.
export function learnName(chatId, userId) {
  if (!userId || store.users.has(userId) || (store.me && userId === store.me.id)) return;
  const key = `${chatId}:${userId}`;
  if (asked.has(key)) return;
  asked.add(key);
  const gen = generation;
  lookups.push(async () => {
    if (gen !== generation || store.users.has(userId)) return;
    try {
      const r = await api('GET', `/chats/${chatId}/members?after=${userId - 1}&limit=1`);
      const m = r.members.find((x) => x.user_id === userId);
      if (m && gen === generation) rememberUsers([asUser(m)]);
    } catch {
      if (gen === generation) asked.delete(key); // to try again another time
    }
  });
  pump();
}

function pump() {
  while (running < 4 && lookups.length) {
    running++;
    lookups.shift()().finally(() => {
      running--;
      pump();
    });
  }
}

// learnDialogNames looks up who the chat list names: the other person of a
// private chat and the sender of a group's last message.
function learnDialogNames(d) {
  if (!d.chat.role) return;
  if (d.chat.kind === 'private' && d.chat.peer_id) learnName(d.chat.id, d.chat.peer_id);
  if (d.chat.kind === 'group' && d.last) learnName(d.chat.id, d.last.sender_id);
}

// Chats --------------------------------------------------------------------

export function chatTitle(chat) {
  if (chat.kind === 'private') return chat.peer_id ? userName(chat.peer_id) : t('chat.private');
  return chat.title;
}

// canPost says whether the user may send messages in chat.
export function canPost(chat) {
  if (!chat.role) return false;
  if (chat.role === 'owner' || chat.role === 'admin') return true;
  if (chat.kind === 'channel') return false;
  return chat.kind === 'private' || chat.permissions.post;
}

export function isAdmin(chat) {
  return chat.role === 'owner' || chat.role === 'admin';
}

export function can(chat, what) {
  if (chat.kind === 'private') return what === 'pin';
  return isAdmin(chat) || (chat.kind === 'group' && chat.role === 'member' && chat.permissions[what]);
}

export async function loadDialogs() {
  const all = new Map();
  let cursor = '';
  for (let page = 0; page < 10; page++) {
    const r = await api('GET', `/dialogs?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    for (const d of r.dialogs) {
      const entry = { chat: d.chat, last: d.last_message || null, unread: d.unread, activity: d.last_activity };
      // A read mark still on its way to the server is newer than the list.
      const old = store.dialogs.get(d.chat.id);
      if (old && old.chat.read_seq > entry.chat.read_seq) {
        entry.chat.read_seq = old.chat.read_seq;
        if (!entry.last || entry.last.seq <= entry.chat.read_seq) entry.unread = 0;
      }
      if (old && (old.chat.peer_read_seq || 0) > (entry.chat.peer_read_seq || 0)) entry.chat.peer_read_seq = old.chat.peer_read_seq;
      all.set(d.chat.id, entry);
    }
    if (!r.next_cursor) break;
    cursor = r.next_cursor;
  }
  store.dialogs = all;
  emit('dialogs');
  for (const d of all.values()) learnDialogNames(d);
}

let reloadTimer = 0;
// reloadDialogs refreshes the chat list soon, once however often it is asked.
export function reloadDialogs() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => loadDialogs().catch(() => {}), 100);
}

export function sortedDialogs() {
  return [...store.dialogs.values()].sort((a, b) => (a.activity < b.activity ? 1 : a.activity > b.activity ? -1 : b.chat.id - a.chat.id));
}

// putChat records a chat the user just created, joined or opened.
export function putChat(chat) {
  const d = store.dialogs.get(chat.id);
  if (d) d.chat = { ...d.chat, ...chat };
  else store.dialogs.set(chat.id, { chat, last: null, unread: 0, activity: chat.created_at });
  if (chat.large && store.live) store.live.follow(chat.id, chat.seq);
  emit('dialogs');
  learnDialogNames(store.dialogs.get(chat.id));
}

export async function refreshChat(id) {
  try {
    const chat = await api('GET', `/chats/${id}`);
    chat.unavailable = chat.unavailable || ''; // present once it is back, to replace the reason
    chat.withheld = chat.withheld || null; // likewise, once no longer withheld where the reader is
    if (chat.role) putChat(chat);
    else dropChat(id);
    emit('chat', chat);
  } catch (e) {
    if (e.status === 404) dropChat(id);
  }
}

export function dropChat(id) {
  store.dialogs.delete(id);
  emit('dialogs');
  emit('gone', id);
}

// applyEvent applies one change from the live stream or a sync.
export function applyEvent(ev) {
  const d = store.dialogs.get(ev.chat_id);
  emit('event', ev);
  if (ev.kind === 'read') {
    // No change to the chat (its seq is 0): a read mark, ours from another
    // device, or the other person's in a private chat.
    if (d) readMark(d, ev.user_id, ev.message_seq);
    return;
  }
  if (!d) {
    reloadDialogs(); // a chat new to this device
    return;
  }
  if (ev.seq <= d.chat.seq) return; // the chat list already shows it
  d.chat.seq = ev.seq;
  const me = store.me.id;
  switch (ev.kind) {
    case 'message':
      d.last = ev.message;
      d.activity = ev.at;
      if (d.chat.kind !== 'channel') learnName(ev.chat_id, ev.message.sender_id);
      if (ev.message.sender_id !== me && (store.openChat !== ev.chat_id || document.hidden)) d.unread++;
      // Whoever writes has read what came before.
      if (ev.message.sender_id !== me && d.chat.kind === 'private') {
        d.chat.peer_read_seq = Math.max(d.chat.peer_read_seq || 0, ev.message.seq);
      }
      if (ev.message.sender_id === me) d.unread = 0;
      break;
    case 'edit':
      if (d.last && d.last.seq === ev.message.seq) d.last = ev.message;
      break;
    case 'delete':
      if (d.last && d.last.seq === ev.message_seq) {
        d.last = { ...d.last, deleted: true, text: '', media: undefined };
        reloadDialogs(); // for the message before it
      }
      break;
    case 'removed': // by the moderators
      if (d.last && d.last.seq === ev.message_seq) {
        d.last = { ...d.last, deleted: true, removed: true, text: '', media: undefined };
        reloadDialogs();
      }
      break;
    case 'restored':
      if (ev.message && (!d.last || ev.message.seq >= d.last.seq)) d.last = ev.message;
      break;
    case 'takedown':
      // Unavailable at once; the reason comes with the chat.
      d.chat.unavailable = d.chat.unavailable || true;
      d.unread = 0;
      refreshChat(ev.chat_id);
      break;
    case 'reinstated':
      d.chat.unavailable = '';
      refreshChat(ev.chat_id);
      reloadDialogs(); // for its last message
      break;
    case 'restricted':
    case 'unrestricted':
      // Withheld in some countries, or no longer: whether here, the chat
      // and its last message, fetched again, say.
      refreshChat(ev.chat_id);
      reloadDialogs();
      break;
    case 'pin':
      d.chat.pinned_seq = ev.message_seq;
      break;
    case 'unpin':
      d.chat.pinned_seq = 0;
      break;
    case 'join':
      d.chat.member_count++;
      membersChanged(ev.chat_id);
      break;
    case 'leave':
    case 'remove':
      if (ev.user_id === me) {
        dropChat(ev.chat_id);
        return;
      }
      d.chat.member_count = Math.max(0, d.chat.member_count - 1);
      membersChanged(ev.chat_id);
      break;
    case 'role':
      membersChanged(ev.chat_id);
      refreshChat(ev.chat_id);
      break;
    case 'info':
      refreshChat(ev.chat_id);
      break;
    case 'large':
      d.chat.large = true;
      break;
    default:
  }
  emit('dialogs');
  emit('chat', d.chat);
}

// readMark applies a read mark from the server: user read the chat of d up
// to seq.
function readMark(d, user, seq) {
  if (user === store.me.id) {
    readLocally(d.chat.id, seq);
    return;
  }
  if (d.chat.kind !== 'private' || seq <= (d.chat.peer_read_seq || 0)) return;
  d.chat.peer_read_seq = seq;
  emit('chat', d.chat);
}

function readLocally(chatId, seq) {
  const d = store.dialogs.get(chatId);
  if (!d) return;
  if (seq > d.chat.read_seq) d.chat.read_seq = seq;
  if (!d.last || d.last.seq <= seq) d.unread = 0;
  emit('dialogs');
}

let readTimers = new Map();
// markRead tells the server (soon, once) that the chat is read up to seq.
export function markRead(chatId, seq) {
  const d = store.dialogs.get(chatId);
  if (!d || !d.chat.role || (seq <= d.chat.read_seq && d.unread === 0)) return;
  readLocally(chatId, seq);
  clearTimeout(readTimers.get(chatId));
  readTimers.set(chatId, setTimeout(() => {
    readTimers.delete(chatId);
    api('PUT', `/chats/${chatId}/read`, { seq }).then(() => broadcast({ type: 'read', chat: chatId, seq }), () => {});
  }, 300));
}

export function forgetReads() {
  for (const tm of readTimers.values()) clearTimeout(tm);
  readTimers = new Map();
}

// Drafts -------------------------------------------------------------------
// What is typed in a chat's box is kept per user and chat until it is sent,
// across reloads, tabs and lost connections.

function draftKey(chatId) {
  return `${draftPrefix}${store.me ? store.me.id : 0}.${chatId}`;
}

export function draft(chatId) {
  return localStorage.getItem(draftKey(chatId)) || '';
}

export function saveDraft(chatId, text) {
  if (text) localStorage.setItem(draftKey(chatId), text);
  else localStorage.removeItem(draftKey(chatId));
}

// composerContext is what the message box of a chat was doing besides
// holding a draft: {reply_to: seq} while replying, or {editing: seq, text}
// while editing, with the edited text; null for nothing.
export function composerContext(chatId) {
  try {
    return JSON.parse(localStorage.getItem(`${draftKey(chatId)}.context`) || 'null');
  } catch {
    return null;
  }
}

export function saveComposerContext(chatId, ctx) {
  if (ctx) localStorage.setItem(`${draftKey(chatId)}.context`, JSON.stringify(ctx));
  else localStorage.removeItem(`${draftKey(chatId)}.context`);
}

export function clearAllDrafts() {
  for (const k of Object.keys(localStorage)) if (k.startsWith(draftPrefix) || k.startsWith(outboxPrefix)) localStorage.removeItem(k);
  localStorage.removeItem(usersKey);
}

// send posts a message; retried with the same key it is never doubled.
export function send(chatId, body, key = newKey()) {
  return api('POST', `/chats/${chatId}/messages`, { ...body, idempotency_key: key });
}

// Outbox -------------------------------------------------------------------
// Messages written while the server could not be reached wait here, in
// localStorage so that a reload keeps them, each with the idempotency key
// it was first tried with. They go out in order when the connection
// returns (flushOutbox), and the server stores each once however often it
// is tried. Screens hear on('outbox', chatId) when the queue changes,
// on('outbox-sent', {item, message}) and on('outbox-failed', {item, err}):
// a message the server refused goes back into its chat's draft.

const outboxPrefix = 'kurir.outbox.';

function outboxKey() {
  return `${outboxPrefix}${store.me ? store.me.id : 0}`;
}

function readOutbox() {
  try {
    const list = JSON.parse(localStorage.getItem(outboxKey()) || '[]');
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

function writeOutbox(list) {
  if (list.length) localStorage.setItem(outboxKey(), JSON.stringify(list));
  else localStorage.removeItem(outboxKey());
}

// outbox returns the messages waiting to be sent, oldest first: all of
// them, or those of one chat.
export function outbox(chatId = 0) {
  const list = readOutbox();
  return chatId ? list.filter((x) => x.chat === chatId) : list;
}

// queueMessage puts a message (the body send takes) at the end of the
// outbox with its idempotency key.
export function queueMessage(chatId, body, key) {
  writeOutbox([...readOutbox(), { chat: chatId, body, key, at: new Date().toISOString() }]);
  emit('outbox', chatId);
}

function unqueue(key) {
  writeOutbox(readOutbox().filter((x) => x.key !== key));
}

let flushing = null;
// flushOutbox sends what waits, in order, until it is empty or the server
// cannot be reached (the next connection tries again).
export function flushOutbox() {
  if (flushing || !store.me) return flushing;
  flushing = (async () => {
    for (let item = readOutbox()[0]; item; item = readOutbox()[0]) {
      try {
        const message = await send(item.chat, item.body, item.key);
        unqueue(item.key);
        emit('outbox-sent', { item, message });
      } catch (err) {
        if (err.network || err.status >= 500 || err.status === 429) return;
        // Refused for good (too long, no longer a member, blocked): back
        // into the draft, unless something else is being written there.
        unqueue(item.key);
        if (item.body.text && !draft(item.chat)) saveDraft(item.chat, item.body.text);
        emit('outbox-failed', { item, err });
      }
    }
  })().finally(() => { flushing = null; });
  return flushing;
}

// Another tab queued or sent a message.
window.addEventListener('storage', (e) => {
  if (store.me && e.key === outboxKey()) emit('outbox', 0);
});
