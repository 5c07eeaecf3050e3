// The kurir web app: start-up, the screens' routes, the connection banner
// and logging in and out. Screens live in their own modules.
import { api, setToken, token, onUnauthorized, onWithdrawn, forgetBlobs, errorText } from './api.js';
import { detect, setLanguage, t, onLanguageChange } from './i18n.js';
import { h, replace, formatDateTime } from './dom.js';
import { Live } from './live.js';
import {
  store, reset, loadUsers, loadDialogs, applyEvent, reloadDialogs, refreshChat, clearAllDrafts, forgetReads, emit, flushOutbox,
} from './store.js';
import { authScreen, joinScreen, publicChatScreen } from './auth.js';
import { sidebar } from './sidebar.js';
import { conversation, emptyMain } from './conversation.js';
import { settingsScreen } from './settings.js';
import { decisionsScreen, refreshUnseenDecisions } from './decisions.js';
import { noticeScreen, noticeStatusScreen } from './notices.js';
import { setRouter, isPortal } from './nav.js';
import { withdrawnScreen } from './jurisdiction.js';
import { secretConversation, startSecret, stopSecret, secretNudge } from './secretchat.js';
import { startNotify } from './notify.js';

const app = document.getElementById('app');
const banner = document.getElementById('banner');
let layout = null; // {root, main, sidebar} while logged in
let current = null; // the screen in main: {path, el, leave()}

// Routing ------------------------------------------------------------------

function navigate(path, { replace: rep = false } = {}) {
  if (rep) history.replaceState(null, '', path);
  else if (path !== location.pathname + location.search) history.pushState(null, '', path);
  route();
}

document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download') || e.defaultPrevented || e.button !== 0 ||
      e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', () => route());
setRouter(navigate);
startNotify();

function route() {
  routeTo(location.pathname);
  // The first screen is up: the page-load benchmark measures up to here.
  if (!performance.getEntriesByName('kurir-ready').length && app.querySelector('.auth, .layout')) performance.mark('kurir-ready');
}

// publicPage is the page for path that anyone may open, logged in or not
// (notices of illegal content), or null.
function publicPage(path) {
  if (path === '/notices') return noticeScreen;
  if (path === '/notices/status') return noticeStatusScreen;
  return null;
}

function routeTo(path) {
  if (isPortal(path)) {
    // The law-enforcement portal is for officers, who have no account:
    // it stands alone, whoever is logged in to the app in this browser.
    leaveCurrent();
    dropLayout();
    showLazy(path, () => import('./legal.js').then((m) => m.portalScreen));
    return;
  }
  const page = publicPage(path);
  if (page) {
    dropLayout();
    show(app, page());
    return;
  }
  if (!token()) {
    dropLayout();
    if (path === '/signup' || path === '/login') {
      show(app, authScreen(path === '/signup' ? 'signup' : 'login', { onLoggedIn: loggedIn }));
    } else {
      const next = path === '/' ? '' : `?next=${encodeURIComponent(path)}`;
      history.replaceState(null, '', `/login${next}`);
      show(app, authScreen('login', { onLoggedIn: loggedIn }));
    }
    return;
  }
  if (!store.me) return; // start() routes when ready
  if (restricted(store.me)) {
    showRestricted();
    return;
  }
  if (path === '/login' || path === '/signup') {
    history.replaceState(null, '', '/');
    routeTo('/');
    return;
  }
  if (path === '/console' || path.startsWith('/console/')) {
    // The moderation console takes the whole window, without the chat list.
    leaveCurrent();
    dropLayout();
    showLazy(path, () => import('./console.js').then((m) => m.consoleScreen));
    store.openChat = 0;
    emit('route', path);
    return;
  }
  ensureLayout();
  leaveCurrent();
  let m;
  let screen;
  if ((m = path.match(/^\/chats\/(\d+)\/?$/))) {
    // ?at=SEQ opens the chat at that message (a search result).
    screen = conversation(Number(m[1]), { at: Number(new URLSearchParams(location.search).get('at')) || 0 });
  } else if ((m = path.match(/^\/secret\/(\d+)\/?$/))) {
    screen = secretConversation(Number(m[1]));
  } else if (path === '/settings') {
    screen = settingsScreen({ logout, loggedOut: forgetSession });
  } else if (path === '/settings/decisions') {
    screen = decisionsScreen();
  } else if ((m = path.match(/^\/join\/([^/]+)\/?$/))) {
    screen = joinScreen(decodeURIComponent(m[1]));
  } else if ((m = path.match(/^\/c\/([^/]+)\/?$/))) {
    screen = publicChatScreen(decodeURIComponent(m[1]));
  } else {
    screen = emptyMain();
  }
  current = { path, ...screen };
  replace(layout.main, screen.el);
  layout.root.classList.toggle('show-main', path !== '/');
  store.openChat = screen.chatId || 0;
  emit('route', path);
  if (screen.focus) screen.focus();
}

// showLazy shows, in the whole window, the screen for path that the
// function load resolves to: the moderation console and the law-enforcement
// portal, whose modules most visitors never need, are fetched only when
// their route is opened, so they do not slow the first screen.
function showLazy(path, load) {
  const slot = { path, el: h('p', { class: 'loading' }, t('app.loading')), screen: null, gone: false };
  slot.leave = () => {
    slot.gone = true;
    if (slot.screen && slot.screen.leave) slot.screen.leave();
  };
  current = slot;
  replace(app, slot.el);
  load().then((make) => {
    if (slot.gone) return;
    slot.screen = make(path);
    replace(app, slot.screen.el);
  }, (err) => {
    if (slot.gone) return;
    // The module did not load (the connection dropped, or a new version
    // replaced it): say so, and offer to try again.
    console.error(err);
    replace(app, h('section', { class: 'card center', 'aria-labelledby': 'start-title' },
      h('h1', { id: 'start-title' }, t('app.start_failed')),
      h('p', { role: 'alert' }, t('error.network')),
      h('button', { type: 'button', class: 'btn primary', onclick: () => route() }, t('common.retry'))));
  });
}

function leaveCurrent() {
  if (current && current.leave) current.leave();
  current = null;
}

function show(root, el) {
  leaveCurrent();
  replace(root, el);
  const first = el.querySelector('h1, h2');
  if (first) { first.tabIndex = -1; first.focus(); }
}

function dropLayout() {
  if (layout) layout.side.destroy();
  layout = null;
}

function ensureLayout() {
  if (layout) return;
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  const side = sidebar();
  const root = h('div', { class: 'layout' }, side.el, main);
  replace(app, root);
  layout = { root, main, side };
}

// Start and stop -------------------------------------------------------------

async function start() {
  try {
    store.me = await api('GET', '/me');
  } catch (e) {
    if (e.status === 401 || withdrawnErr(e)) return; // onUnauthorized has logged out, or onWithdrawn explained
    return startFailed(e);
  }
  if (restricted(store.me)) {
    route(); // a suspended or banned account sees only the decisions about it
    return;
  }
  loadUsers();
  let state;
  try {
    // The sync state first, so that a change made while the chat list
    // loads is caught by the stream rather than missed.
    state = await api('GET', '/updates/state');
    await loadDialogs();
  } catch (e) {
    if (e.status === 401 || withdrawnErr(e)) return;
    return startFailed(e);
  }
  store.live = new Live({
    apply: applyEvent,
    reset: (chatId) => { reloadDialogs(); if (chatId) refreshChat(chatId); emit('resynced', chatId); },
    status: connectionStatus,
    // A decision about the user was taken or reversed, or the stream is
    // back (nudges sent meanwhile are lost): the badge's count is fetched.
    nudge: (type) => (type === 'decision' ? refreshUnseenDecisions() : secretNudge(type)),
  });
  store.live.me = store.me.id;
  startSecret();
  store.live.start(state);
  route();
}

// restricted says whether the account is suspended or banned: it may then
// only read the decisions about it, appeal them and log out.
function restricted(me) {
  return me.state === 'banned' || (me.state === 'suspended' && (!me.suspended_until || new Date(me.suspended_until) > new Date()));
}

// showRestricted is all a suspended or banned account sees: why, the
// statements of reasons about it with their appeals, and logging out.
function showRestricted() {
  dropLayout();
  const me = store.me;
  const screen = decisionsScreen();
  const title = me.state === 'banned' ? t('mod.restricted_banned')
    : t('mod.restricted_suspended', { until: formatDateTime(me.suspended_until) });
  const el = h('div', { class: 'restricted' },
    h('section', { class: 'card', 'aria-labelledby': 'restricted-title' },
      h('h1', { id: 'restricted-title' }, title),
      h('p', { class: 'muted' }, t('mod.restricted_text')),
      h('button', { type: 'button', class: 'btn', onclick: () => logout() }, t('mod.restricted_logout'))),
    screen.el);
  show(app, el);
  current = { path: location.pathname, ...screen };
}

// withdrawnErr says whether err is the refusal of a market the operator
// has left, which onWithdrawn has already shown.
function withdrawnErr(err) {
  return err.status === 451 && err.reason === 'market_withdrawn';
}

// showWithdrawn is all a person sees where the operator has withdrawn
// from the market (at login, or when it happens while they use the app):
// the server's explanation in their language, trying again, and logging
// out or going back to the login form. Their account and data are kept.
function showWithdrawn(err) {
  if (document.querySelector('.withdrawn-detail')?.textContent === err.detail) return; // shown already
  const loggedIn = !!token();
  if (store.live) store.live.stop();
  store.live = null;
  store.me = null;
  dropLayout();
  show(app, withdrawnScreen(err.detail, {
    loggedIn,
    retry: () => { replace(app); start(); },
    logout: () => logout(),
    back: () => navigate('/login', { replace: true }),
  }));
}

// startFailed shows why the app cannot start (the server is unreachable or
// failing) and tries again.
function startFailed(err) {
  store.me = null;
  dropLayout();
  const retry = h('button', { type: 'button', class: 'btn primary', onclick: () => { replace(app); start(); } }, t('common.retry'));
  show(app, h('section', { class: 'card center', 'aria-labelledby': 'start-title' },
    h('h1', { id: 'start-title' }, t('app.start_failed')),
    h('p', { role: 'alert' }, errorText(err)),
    retry));
  setTimeout(() => { if (!store.me && document.body.contains(retry)) retry.click(); }, 5000);
}

function loggedIn() {
  const next = new URLSearchParams(location.search).get('next') || '';
  const safe = next.startsWith('/') && !next.startsWith('//') ? next : '/';
  history.replaceState(null, '', safe);
  start();
}

// stop forgets everything of the session on this device, its secret-chat
// keys and messages too: the session has ended.
function stop() {
  if (store.live) store.live.stop();
  store.live = null;
  leaveCurrent();
  stopSecret();
  forgetReads();
  forgetBlobs();
  reset();
  dropLayout();
  connectionStatus('online');
}

async function logout() {
  try {
    await api('DELETE', '/sessions/current');
  } catch {
    // Logged out here all the same; the server forgets an unused token.
  }
  forgetSession();
}

// forgetSession ends the session on this device, its drafts too, where
// the server has ended it already (the account is to be deleted).
function forgetSession() {
  clearAllDrafts();
  setToken('');
  stop();
  navigate('/login', { replace: true });
}

onWithdrawn(showWithdrawn);

onUnauthorized(() => {
  setToken('');
  stop();
  navigate('/login', { replace: true });
});

// Another tab logged in or out.
window.addEventListener('storage', (e) => {
  if ((e.key !== 'kurir.token' && e.key !== null) || isPortal(location.pathname)) return;
  if (!token() && store.me) {
    stop();
    navigate('/login', { replace: true });
  } else if (token() && !store.me) {
    start();
  }
});

// The connection banner ---------------------------------------------------------

let offlineSince = 0;
let countdown = 0;

function connectionStatus(s, retryAt) {
  clearInterval(countdown);
  if (s === 'online') {
    flushOutbox(); // what was written while offline
    offlineSince = 0;
    banner.hidden = true;
    replace(banner);
    return;
  }
  if (s === 'connecting') {
    if (!offlineSince) return; // the first connection: no news
    replace(banner, h('span', {}, t('conn.reconnecting')));
    banner.hidden = false;
    return;
  }
  if (!offlineSince) offlineSince = Date.now();
  // The countdown changes every second, so it is hidden from screen
  // readers, which hear only that the connection is lost.
  const when = h('span', { 'aria-hidden': 'true' });
  const tick = () => {
    const secs = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
    when.textContent = t('conn.retry_in', { seconds: secs });
  };
  tick();
  countdown = setInterval(tick, 1000);
  replace(banner, h('strong', {}, t('conn.lost')), when,
    h('button', { type: 'button', class: 'btn small', onclick: () => store.live && store.live.retryNow() }, t('conn.retry')));
  banner.hidden = false;
}

onLanguageChange(() => {
  if (layout) {
    dropLayout();
    route();
  } else if (!store.me || publicPage(location.pathname) || isPortal(location.pathname)) {
    route();
  }
});

async function boot() {
  try {
    await setLanguage(detect());
  } catch {
    // The catalog did not load: keys are shown, and the app still works.
  }
  document.body.classList.remove('booting');
  if (token() && !isPortal(location.pathname)) await start();
  else route();
}

boot();
