// The chat list: every chat with its last message and unread count, kept
// current by the live stream, with search for public groups and channels
// and for messages in all the user's chats.
// Secret chats, which only this device holds, are listed among them with a
// lock.
import { api, errorText } from './api.js';
import { t } from './i18n.js';
import { h, replace, icon, iconButton, avatar, formatTime, formatDateTime, menu } from './dom.js';
import { store, on, sortedDialogs, chatTitle, userName } from './store.js';
import { newPrivateDialog, newChatDialog, joinLinkDialog } from './newchat.js';
import { withheldPreview, isWithheld, withheldFound } from './jurisdiction.js';
import { secretDialogs, newSecretDialog } from './secretchat.js';
import { decisionsBadge } from './decisions.js';

// preview is a one-line summary of a message for the chat list.
export function preview(m, chat) {
  if (!m) return '';
  let text;
  if (m.removed) text = t('mod.removed');
  else if (m.deleted) text = t('msg.deleted');
  else if (m.withheld) text = withheldPreview(m.withheld);
  else if (m.media) text = `${m.media.kind === 'photo' ? t('msg.photo') : m.media.name || t('msg.file')}${m.text ? `, ${m.text}` : ''}`;
  else text = m.text;
  text = text.split('\n')[0];
  if (chat.kind === 'group' && !m.deleted) {
    const who = store.me && m.sender_id === store.me.id ? t('msg.you') : userName(m.sender_id);
    text = t('dialogs.preview', { sender: who, text });
  } else if (chat.kind === 'private' && store.me && m.sender_id === store.me.id && !m.deleted) {
    text = t('dialogs.preview', { sender: t('msg.you'), text });
  }
  return text;
}

function kindLabel(chat) {
  if (chat.kind === 'channel') return t('chat.kind_channel');
  if (chat.kind === 'group') return t('chat.kind_group');
  return '';
}

export function sidebar() {
  const list = h('ul', { class: 'dialogs', 'aria-labelledby': 'chats-title' });
  const empty = h('p', { class: 'empty', hidden: true }, t('dialogs.empty'));
  const items = new Map(); // "c" + chat ID or "s" + peer user ID -> {li, a}
  const results = h('div', { class: 'results', hidden: true, 'aria-live': 'polite' });
  const search = h('input', {
    type: 'search', name: 'q', class: 'search', placeholder: t('search.placeholder'),
    'aria-label': t('search.label'), autocomplete: 'off',
  });
  const newBtn = iconButton('plus', t('dialogs.new'), { 'aria-haspopup': 'menu' });
  newBtn.addEventListener('click', () => menu(newBtn, t('dialogs.new'), [
    { label: t('new.private'), action: newPrivateDialog },
    { label: t('secret.new'), name: 'new-secret', action: newSecretDialog },
    { label: t('new.group'), action: () => newChatDialog('group') },
    { label: t('new.channel'), action: () => newChatDialog('channel') },
    { label: t('new.join_link'), action: joinLinkDialog },
  ]));
  const settings = h('a', { href: '/settings', class: 'icon-btn', 'aria-label': t('settings.title'), title: t('settings.title') }, icon('settings'));
  // Decisions about the user that are news to them mark the way to them.
  settings.append(decisionsBadge((n) => settings.setAttribute('aria-label',
    n ? `${t('settings.title')}: ${t('decisions.unseen', { count: n })}` : t('settings.title'))));
  const el = h('aside', { class: 'sidebar', 'aria-label': t('dialogs.title') },
    h('header', { class: 'side-head' },
      h('h1', { id: 'chats-title' }, t('dialogs.title')),
      h('div', { class: 'tools' }, newBtn, settings)),
    h('div', { class: 'search-box', role: 'search' }, icon('search'), search),
    results,
    h('nav', { class: 'dialog-nav', 'aria-labelledby': 'chats-title' }, list, empty));

  // entries are the chats and the secret chats, the latest activity first.
  function entries() {
    const out = sortedDialogs().map((d) => ({ key: `c${d.chat.id}`, href: `/chats/${d.chat.id}`, at: Date.parse(d.activity) || 0, d }));
    for (const s of secretDialogs()) {
      const at = s.last ? s.last.at : s.activity;
      const i = out.findIndex((e) => e.at < at);
      out.splice(i < 0 ? out.length : i, 0, { key: `s${s.peer}`, href: `/secret/${s.peer}`, at, s });
    }
    return out;
  }

  function render() {
    const ds = entries();
    const path = location.pathname.replace(/\/$/, '');
    const seen = new Set();
    let prev = null;
    for (const e of ds) {
      const id = e.key;
      seen.add(id);
      let it = items.get(id);
      if (!it) {
        const a = h('a', { class: e.s ? 'dialog secret' : 'dialog', href: e.href, dataset: e.s ? { secret: String(e.s.peer) } : { chat: String(e.d.chat.id) } });
        it = { li: h('li', {}, a), a };
        items.set(id, it);
      }
      if (e.s) fillSecret(it.a, e.s, e.href === path);
      else fill(it.a, e.d, e.href === path);
      // Keep focus and order: move only what is out of place.
      const want = prev ? prev.nextSibling : list.firstChild;
      if (want !== it.li) list.insertBefore(it.li, want);
      prev = it.li;
    }
    for (const [id, it] of items) {
      if (!seen.has(id)) { it.li.remove(); items.delete(id); }
    }
    empty.hidden = ds.length > 0;
  }

  function fill(a, d, active) {
    const title = chatTitle(d.chat);
    // A chat the moderators took down, or one withheld in the reader's
    // country, shows that instead of its messages.
    const last = d.chat.unavailable ? t('mod.unavailable_preview')
      : d.chat.withheld ? withheldPreview(d.chat.withheld) : preview(d.last, d.chat);
    const when = d.last ? d.last.created_at : d.activity;
    if (active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
    a.classList.toggle('unread', d.unread > 0);
    a.classList.toggle('unavailable', !!d.chat.unavailable || !!d.chat.withheld);
    a.classList.toggle('withheld', !!d.chat.withheld);
    replace(a,
      avatar(title, d.chat.id),
      h('span', { class: 'd-body' },
        h('span', { class: 'd-top' },
          h('span', { class: 'd-title', dir: 'auto' }, title),
          kindLabel(d.chat) ? h('span', { class: 'sr' }, `, ${kindLabel(d.chat)}`) : null,
          when ? h('time', { datetime: when }, formatTime(when)) : null),
        h('span', { class: 'd-bottom' },
          h('span', { class: 'd-last', dir: 'auto' }, last || '\u00a0'),
          d.unread > 0 ? h('span', { class: 'badge', 'aria-hidden': 'true' }, d.unread > 999 ? '999+' : String(d.unread)) : null,
          d.unread > 0 ? h('span', { class: 'sr' }, t('dialogs.unread', { count: d.unread })) : null)));
  }

  function fillSecret(a, s, active) {
    if (active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
    a.classList.toggle('unread', s.unread > 0);
    let last = '';
    if (s.last) {
      const text = s.last.text.split('\n')[0];
      last = s.last.own ? t('dialogs.preview', { sender: t('msg.you'), text }) : text;
    }
    const when = s.last ? s.last.at : s.activity;
    replace(a,
      avatar(s.title, s.peer),
      h('span', { class: 'd-body' },
        h('span', { class: 'd-top' },
          h('span', { class: 'd-lock' }, icon('lock')),
          h('span', { class: 'd-title', dir: 'auto' }, s.title),
          last ? h('span', { class: 'sr' }, `, ${t('secret.kind')}`) : null,
          when ? h('time', { datetime: new Date(when).toISOString() }, formatTime(when)) : null),
        h('span', { class: 'd-bottom' },
          h('span', { class: 'd-last', dir: 'auto' }, last || t('secret.kind')),
          s.unread > 0 ? h('span', { class: 'badge', 'aria-hidden': 'true' }, s.unread > 999 ? '999+' : String(s.unread)) : null,
          s.unread > 0 ? h('span', { class: 'sr' }, t('dialogs.unread', { count: s.unread })) : null)));
  }

  // Up and Down move between chats, Home and End to the ends.
  list.addEventListener('keydown', (e) => {
    const links = [...list.querySelectorAll('a.dialog')];
    const i = links.indexOf(document.activeElement);
    if (i < 0) return;
    const go = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: links.length - 1 }[e.key];
    if (go === undefined) return;
    e.preventDefault();
    links[Math.max(0, Math.min(links.length - 1, go))].focus();
  });

  // messageHits lists messages found in the user's chats; each opens its
  // chat at the message (/chats/ID?at=SEQ), loading the history around it.
  function messageHits(msgs) {
    const ul = h('ul', { class: 'result-list message-hits' });
    for (const m of msgs) {
      const d = store.dialogs.get(m.chat_id);
      const title = d ? chatTitle(d.chat) : t('search.unknown_chat');
      ul.append(h('li', {}, h('a', { class: 'dialog message-hit', href: `/chats/${m.chat_id}?at=${m.seq}` },
        avatar(title, m.chat_id),
        h('span', { class: 'd-body' },
          h('span', { class: 'd-top' },
            h('span', { class: 'd-title', dir: 'auto' }, title),
            h('time', { datetime: m.created_at, title: formatDateTime(m.created_at) }, formatTime(m.created_at))),
          h('span', { class: 'd-bottom' }, h('span', { class: 'd-last', dir: 'auto' }, preview(m, d ? d.chat : { kind: '' })))))));
    }
    return ul;
  }

  // Searching public groups and channels, and messages in the user's chats.
  let timer = 0;
  let seq = 0;
  async function runSearch() {
    const q = search.value.trim();
    const mine = ++seq;
    if (!q) {
      results.hidden = true;
      replace(results);
      return;
    }
    results.hidden = false;
    replace(results, h('p', { class: 'muted' }, t('search.searching')));
    try {
      const found = new Map();
      let withheld = null; // the @name is of a chat withheld where the reader is
      const byName = q.startsWith('@') && q.length > 1
        ? api('GET', `/public-chats/${encodeURIComponent(q.slice(1))}`).catch((e) => { if (isWithheld(e)) withheld = e; return null; })
        : Promise.resolve(null);
      // No chat_id: every chat the user is a member of.
      const inChats = api('GET', `/search/messages?q=${encodeURIComponent(q)}&limit=20`);
      const [exact, r, hits] = await Promise.all([byName, api('GET', `/search/chats?q=${encodeURIComponent(q)}&limit=20`), inChats]);
      if (exact) found.set(exact.id, exact);
      for (const c of r.chats) found.set(c.id, c);
      if (mine !== seq) return;
      const ul = h('ul', { class: 'result-list' });
      for (const c of found.values()) {
        ul.append(h('li', {}, h('a', { class: 'dialog', href: `/chats/${c.id}` },
          avatar(c.title, c.id),
          h('span', { class: 'd-body' },
            h('span', { class: 'd-top' }, h('span', { class: 'd-title', dir: 'auto' }, c.title)),
            h('span', { class: 'd-bottom' }, h('span', { class: 'd-last' },
              `@${c.username} · ${kindLabel(c)} · ${c.kind === 'channel' ? t('chat.subscribers', { count: c.member_count }) : t('chat.members', { count: c.member_count })}`))))));
      }
      replace(results,
        h('h2', { class: 'section-title' }, t('search.results')),
        withheld ? h('p', { class: 'withheld-result' }, withheldFound(withheld)) : null,
        found.size ? ul : withheld ? null : h('p', { class: 'muted' }, t('search.none')),
        h('h2', { class: 'section-title' }, t('search.messages')),
        hits.messages.length ? messageHits(hits.messages) : h('p', { class: 'muted' }, t('search.none')));
    } catch (err) {
      if (mine === seq) replace(results, h('p', { class: 'form-error', role: 'alert' }, errorText(err)));
    }
  }
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(runSearch, 250);
  });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && search.value) {
      search.value = '';
      runSearch();
    }
  });
  results.addEventListener('click', (e) => {
    if (e.target.closest('a')) {
      search.value = '';
      runSearch();
    }
  });

  let frame = 0;
  const schedule = () => {
    if (!frame) frame = setTimeout(() => { frame = 0; render(); }, 16);
  };
  const offs = [on('dialogs', schedule), on('route', schedule)];
  render();
  return {
    el,
    destroy: () => { for (const off of offs) off(); clearTimeout(frame); clearTimeout(timer); },
  };
}
