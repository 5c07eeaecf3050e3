// One chat: its history (older messages load as you scroll up), live
// changes, read marks, and the box to write, reply, edit and attach files.
import { api, uploadResumable, blobURL, errorText, newKey, ApiError, serverConfig } from './api.js';
import { t } from './i18n.js';
import {
  h, replace, icon, iconButton, avatar, formatMsgTime, formatDateTime, formatDay, dayKey, formatSize, menu, confirmDialog, openDialog, toast,
} from './dom.js';
import {
  store, on, chatTitle, userName, canPost, can, isAdmin, putChat, markRead, draft, saveDraft, send, broadcast,
  composerContext, saveComposerContext,
  sortedDialogs, chatMembers, learnName, refreshChat, lookupUser, outbox, queueMessage, flushOutbox,
} from './store.js';
import { richText } from './richtext.js';
import { navigate } from './nav.js';
import { chatInfoDialog, peerInfoDialog } from './chatinfo.js';
import { reportDialog } from './report.js';
import { withheldMessageNote, withheldPreview, withheldChatNotice, isWithheld } from './jurisdiction.js';

const pageSize = 50;
const maxFileKey = 'kurir.max_upload';
// limits are what the server takes: the longest text and caption in
// characters and the largest file in bytes. They are the server's own
// (serverConfig) once it has said them; until then, or when it cannot be
// asked, the defaults and the last file limit learnt, which is kept.
const limits = { text: 4096, caption: 4096, file: Number(localStorage.getItem(maxFileKey)) || 2 * 1024 ** 3 };
function learnLimits(cfg) {
  if (!cfg) return;
  limits.text = cfg.max_text_chars || limits.text;
  limits.caption = cfg.max_caption_chars || limits.caption;
  if (cfg.max_upload_bytes) learnMaxFile(cfg.max_upload_bytes);
}
function learnMaxFile(n) {
  limits.file = n;
  localStorage.setItem(maxFileKey, String(n));
}

export function emptyMain() {
  const el = h('section', { class: 'placeholder', 'aria-labelledby': 'empty-title' },
    h('h2', { id: 'empty-title' }, t('conv.none_title')),
    h('p', { class: 'muted' }, t('conv.none_text')));
  return { el };
}

function snippet(m) {
  if (!m) return '';
  if (m.removed) return t('mod.removed');
  if (m.deleted) return t('msg.deleted');
  if (m.withheld) return withheldPreview(m.withheld);
  if (m.media && !m.text) return m.media.kind === 'photo' ? t('msg.photo') : m.media.name || t('msg.file');
  return m.text.split('\n')[0].slice(0, 120);
}

// labelName names a label moderation put on a chat.
function labelName(label) {
  switch (label) {
    case 'sensitive': return t('mod.label_sensitive');
    case 'graphic': return t('mod.label_graphic');
    case 'misleading': return t('mod.label_misleading');
    case 'scam_risk': return t('mod.label_scam_risk');
    default: return label;
  }
}

// conversation is the screen of chat chatId, opened where the user stopped
// reading or, with at, at that message.
export function conversation(chatId, { at = 0 } = {}) {
  let chat = store.dialogs.get(chatId)?.chat || null;
  const messages = new Map(); // seq -> message
  const els = new Map(); // seq -> li
  let hasMore = true;
  // hasNewer is set while the loaded window stops short of the newest
  // message (after a jump to an older one): scrolling down loads more,
  // and new messages wait rather than leave a gap.
  let hasNewer = false;
  let loading = false;
  let replyTo = 0;
  let editing = 0;
  let stash = ''; // the draft put aside while editing
  let attachments = []; // the Files chosen to send, in order: one message each
  let uploading = null; // {abort}
  let sendKey = ''; // the idempotency key of the text being sent
  let sendKeyText = '';
  let closed = false;
  // Views: each post of a channel or large group that comes on screen is
  // reported once per opening of the chat, in batches of up to 100 a second
  // apart; the server counts each person once however often it hears.
  const viewed = new Set();
  const viewBatch = [];
  let viewTimer = 0;
  const viewer = window.IntersectionObserver ? new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      viewer.unobserve(e.target);
      const seq = Number(e.target.dataset.seq);
      if (!viewed.has(seq)) viewBatch.push(seq);
      viewed.add(seq);
    }
    if (viewBatch.length && !viewTimer) viewTimer = setTimeout(flushViews, 1000);
  }, { threshold: 0.5 }) : null;
  const countsViews = () => chat && (chat.kind === 'channel' || chat.large);
  async function flushViews() {
    viewTimer = 0;
    const seqs = viewBatch.splice(0, 100);
    if (viewBatch.length) viewTimer = setTimeout(flushViews, 1000);
    if (closed || !seqs.length) return;
    // A report that fails is a few views not counted: not worth a retry.
    await api('POST', `/chats/${chatId}/views`, { seqs }).catch(() => {});
  }
  const tombs = new Map(); // seq -> li: messages the moderators removed, while the chat is open
  // unreadFrom is the seq after the read mark when the chat was opened with
  // unread messages: the "new messages" line stays above the first message
  // from there while the chat is open (until the user writes).
  let unreadFrom = 0;
  // settled is set once the chat is shown where it opens: until then,
  // nothing on screen counts as read (loading the newest page first would).
  let settled = false;
  {
    const d = store.dialogs.get(chatId);
    if (d && d.unread > 0 && d.chat.role) unreadFrom = d.chat.read_seq + 1;
  }

  // The elements ----------------------------------------------------------
  const titleEl = h('h2', { id: 'conv-title', dir: 'auto' });
  const subEl = h('p', { class: 'sub' });
  const avatarBox = h('span', {});
  const infoBtn = iconButton('info', t('conv.info'), {
    onclick: () => { if (chat) (chat.kind === 'private' ? peerInfoDialog(chat.peer_id) : chatInfoDialog(chat)); },
  });
  const searchBtn = iconButton('search', t('conv.search'), { 'aria-expanded': 'false', onclick: () => toggleSearch() });
  const head = h('header', { class: 'conv-head' },
    h('a', { href: '/', class: 'icon-btn back', 'aria-label': t('conv.back'), title: t('conv.back') }, icon('back')),
    avatarBox, h('div', { class: 'conv-titles' }, titleEl, subEl), searchBtn, infoBtn);
  // Searching this chat's messages: the box and the results under the header.
  const searchInput = h('input', {
    type: 'search', name: 'q', class: 'search', autocomplete: 'off', dir: 'auto', maxlength: '256',
    'aria-label': t('conv.search_label'), placeholder: t('conv.search_label'),
  });
  const searchResults = h('div', { class: 'msg-search-results', 'aria-live': 'polite' });
  const searchBar = h('div', { class: 'msg-search', role: 'search', hidden: true },
    h('div', { class: 'search-box' }, icon('search'), searchInput,
      iconButton('close', t('conv.search_close'), { onclick: () => toggleSearch(false) })),
    searchResults);
  const pinned = h('div', { class: 'pinned', hidden: true });
  const top = h('li', { class: 'history-edge' });
  const list = h('ol', { class: 'messages', role: 'log', 'aria-labelledby': 'conv-title' }, top);
  const scroller = h('div', { class: 'scroller', tabindex: '0', 'aria-label': t('conv.history') }, list);
  const jump = iconButton('down', t('conv.jump'), { class: 'icon-btn jump', hidden: true, onclick: () => toNewest(true) });
  const contextBar = h('div', { class: 'context-bar', hidden: true });
  const attachBar = h('div', { class: 'attach-bar', hidden: true });
  const errorBox = h('p', { class: 'composer-error', role: 'alert', id: `cerr-${chatId}`, hidden: true });
  const counter = h('span', { class: 'counter', hidden: true, 'aria-live': 'polite' });
  const input = h('textarea', {
    name: 'text', rows: '1', class: 'composer-input', 'aria-label': t('composer.label'),
    placeholder: t('composer.placeholder'), 'aria-describedby': `cerr-${chatId}`, dir: 'auto',
  });
  const fileInput = h('input', { type: 'file', class: 'visually-hidden', tabindex: '-1', 'aria-hidden': 'true' });
  const attachBtn = iconButton('attach', t('composer.attach'), { onclick: () => fileInput.click() });
  const sendBtn = h('button', { type: 'submit', class: 'icon-btn send', 'aria-label': t('composer.send'), title: t('composer.send') }, icon('send'));
  const form = h('form', { class: 'composer' }, attachBtn, fileInput, input, counter, sendBtn);
  const notice = h('div', { class: 'notice', hidden: true });
  const footer = h('footer', { class: 'conv-foot' }, contextBar, attachBar, errorBox, notice, form);
  // Shown instead of the history when moderation took the chat down.
  const gone = h('div', { class: 'chat-unavailable', role: 'status', hidden: true });
  // The warnings moderation labelled the chat with, shown before its content.
  const labels = h('p', { class: 'chat-labels', role: 'note', hidden: true });
  const el = h('section', { class: 'conv', 'aria-labelledby': 'conv-title' }, head, searchBar, labels, pinned, scroller, gone, jump, footer);

  // Header, pinned bar and what the user may do ---------------------------------
  function renderHead() {
    if (!chat) return;
    renderTitle();
    infoBtn.hidden = chat.kind === 'private' && !chat.peer_id;
    const warn = chat.unavailable || chat.withheld ? [] : (chat.labels || []);
    labels.hidden = !warn.length;
    labels.textContent = warn.length ? t('mod.labels', { labels: warn.map(labelName).join(', ') }) : '';
    if (renderUnavailable()) return;
    renderPinned();
    renderComposer();
  }

  // renderUnavailable shows, for a chat that moderation took down or that
  // is withheld in the reader's country, why, instead of its history and
  // the message box. It returns whether it is.
  function renderUnavailable() {
    const down = !!chat.unavailable || !!chat.withheld;
    const wasDown = !gone.hidden;
    scroller.hidden = down;
    gone.hidden = !down;
    if (!down) return false;
    if (!wasDown) {
      // Nothing of it is shown any more: not even what was loaded.
      for (const s of [...messages.keys()]) removeMsg(s);
      for (const tomb of tombs.values()) tomb.remove();
      tombs.clear();
      hasMore = false;
    }
    const reason = typeof chat.unavailable === 'string' ? chat.unavailable : '';
    const what = chat.kind === 'channel' ? t('mod.unavailable_channel') : t('mod.unavailable_group');
    gone.classList.toggle('withheld', !chat.unavailable);
    if (chat.unavailable) {
      replace(gone,
        h('h3', {}, what),
        h('p', {}, t('mod.unavailable_text')),
        reason ? h('p', {}, t('mod.unavailable_reason', { reason })) : null,
        chat.role === 'owner' ? h('p', {}, h('a', { href: '/settings/decisions' }, t('mod.unavailable_owner'))) : null);
    } else {
      replace(gone, ...withheldChatNotice(chat));
    }
    pinned.hidden = true;
    jump.hidden = true;
    form.hidden = true;
    notice.hidden = true;
    contextBar.hidden = true;
    attachBar.hidden = true;
    return true;
  }

  function renderTitle() {
    const title = chatTitle(chat);
    titleEl.textContent = title;
    replace(avatarBox, avatar(title, chat.id));
    const parts = [];
    if (chat.kind === 'private') {
      const u = store.users.get(chat.peer_id);
      if (u && u.username && title !== `@${u.username}`) parts.push(`@${u.username}`);
    } else {
      parts.push(chat.kind === 'channel' ? t('chat.kind_channel') : t('chat.kind_group'));
      parts.push(chat.kind === 'channel' ? t('chat.subscribers', { count: chat.member_count }) : t('chat.members', { count: chat.member_count }));
      if (chat.username) parts.push(`@${chat.username}`);
    }
    replace(subEl, ...parts.flatMap((p, i) => [i ? ' · ' : '', h('bdi', {}, p)]));
    document.title = t('app.title_chat', { title });
  }

  function renderComposer() {
    const member = !!chat.role;
    const may = canPost(chat);
    form.hidden = !may;
    notice.hidden = may;
    if (!member) {
      const join = h('button', { type: 'button', class: 'btn primary' }, chat.kind === 'channel' ? t('conv.subscribe') : t('conv.join'));
      join.addEventListener('click', async () => {
        join.disabled = true;
        try {
          chat = await api('POST', `/chats/${chatId}/join`);
          putChat(chat);
          renderHead();
          loadMembers();
          input.focus();
        } catch (err) {
          toast(errorText(err), { error: true });
          join.disabled = false;
        }
      });
      replace(notice, h('p', {}, t('conv.not_member')), join);
    } else if (!may) {
      replace(notice, h('p', {}, chat.kind === 'channel' ? t('conv.channel_readonly') : t('conv.no_post')));
    }
  }

  async function renderPinned() {
    const seq = chat.pinned_seq || 0;
    if (!seq) {
      pinned.hidden = true;
      replace(pinned);
      return;
    }
    let m = messages.get(seq);
    if (!m) {
      try {
        const r = await api('GET', `/chats/${chatId}/messages?before=${seq + 1}&limit=1`);
        m = r.messages.find((x) => x.seq === seq);
      } catch {
        m = null;
      }
      if (closed || chat.pinned_seq !== seq) return;
    }
    const show = h('button', { type: 'button', class: 'pinned-text', onclick: () => scrollToMsg(seq) },
      icon('pin'), h('span', { class: 'pinned-label' }, t('conv.pinned')), h('span', { dir: 'auto' }, m ? snippet(m) : ''));
    replace(pinned, show, can(chat, 'pin')
      ? h('button', { type: 'button', class: 'btn small', onclick: () => pin(0) }, t('msg.unpin')) : null);
    pinned.hidden = false;
  }

  // Messages ----------------------------------------------------------------
  function renderMsg(m) {
    const own = store.me && m.sender_id === store.me.id;
    const parts = [];
    if (chat && chat.kind !== 'private' && !own && chat.kind !== 'channel') {
      // The sender's name opens what can be done about them: write to
      // them in private, block or report them.
      parts.push(h('button', {
        type: 'button', class: `sender hue${m.sender_id % 8}`, dataset: { user: String(m.sender_id) }, dir: 'auto',
        onclick: () => peerInfoDialog(m.sender_id),
      }, userName(m.sender_id)));
    }
    if (m.forward) {
      // A post forwarded from a channel is the channel's, not its admin's.
      const from = store.dialogs.get(m.forward.chat_id)?.chat;
      const name = from && from.kind === 'channel' ? from.title : userName(m.forward.sender_id);
      parts.push(h('div', { class: 'fwd', dir: 'auto' }, t('msg.forwarded_from', { name })));
    }
    if (m.reply_to) {
      const r = messages.get(m.reply_to);
      parts.push(h('button', { type: 'button', class: 'reply-quote', onclick: () => scrollToMsg(m.reply_to) },
        r ? h('span', { class: 'reply-who', dataset: { user: String(r.sender_id) } }, userName(r.sender_id)) : h('span', { class: 'reply-who' }, t('msg.reply')),
        h('span', { class: 'reply-text', dir: 'auto' }, r ? snippet(r) : t('msg.reply_unknown'))));
    }
    if (m.media) parts.push(renderMedia(m.media));
    if (m.text) parts.push(h('div', { class: 'text', dir: 'auto' }, ...richText(m.text, openMention)));
    if (m.withheld) parts.push(withheldMessageNote(m.withheld));
    const meta = h('div', { class: 'meta' },
      m.views ? h('span', { class: 'views', title: t('msg.views', { count: new Intl.NumberFormat(document.documentElement.lang).format(m.views) }) },
        t('msg.views', { count: new Intl.NumberFormat(document.documentElement.lang, { notation: 'compact', maximumFractionDigits: 1 }).format(m.views) })) : null,
      m.edited_at ? h('span', { class: 'edited' }, t('msg.edited')) : null,
      h('time', { datetime: m.created_at, title: formatDateTime(m.created_at) }, formatMsgTime(m.created_at)),
      own ? receipt(m) : null);
    parts.push(meta);
    const more = iconButton('more', t('msg.actions'), { class: 'icon-btn more', 'aria-haspopup': 'menu' });
    more.hidden = !chat;
    more.addEventListener('click', () => actions(m.seq, more));
    return h('li', { class: `msg${own ? ' own' : ''}${m.withheld ? ' withheld' : ''}`, id: `m-${chatId}-${m.seq}`, dataset: { seq: String(m.seq) } },
      h('div', { class: 'bubble' }, ...parts), more);
  }

  // openMention shows the person an @name in a message names, or else the
  // public group or channel of that name.
  async function openMention(name) {
    try {
      const u = await lookupUser(name);
      peerInfoDialog(u.id);
    } catch (err) {
      if (err.status === 404) navigate(`/c/${encodeURIComponent(name)}`);
      else toast(errorText(err), { error: true });
    }
  }

  // renderPending shows, after the history, the messages of this chat that
  // wait in the outbox to be sent, each with a clock.
  function renderPending() {
    for (const li of list.querySelectorAll(':scope > .pending')) li.remove();
    for (const item of outbox(chatId)) {
      // A seq beyond any message's keeps put() inserting messages before it.
      list.append(h('li', { class: 'msg own pending', id: `p-${item.key}`, dataset: { seq: '1e15' } },
        h('div', { class: 'bubble' },
          h('div', { class: 'text', dir: 'auto' }, item.body.text || ''),
          h('div', { class: 'meta' },
            h('time', { datetime: item.at }, formatMsgTime(item.at)),
            h('span', { class: 'receipt waiting', role: 'img', 'aria-label': t('msg.pending'), title: t('msg.pending') }, icon('timer'))))));
    }
  }

  function onOutbox(id) {
    if (!id || id === chatId) {
      renderPending();
      if (nearBottom()) toBottom(false);
    }
  }

  function onOutboxSent({ item, message }) {
    if (item.chat !== chatId) return;
    renderPending();
    if (!hasNewer && !messages.has(message.seq)) put(message);
    if (nearBottom()) toBottom(false);
  }

  function onOutboxFailed({ item, err }) {
    if (item.chat !== chatId) return;
    renderPending();
    if (!input.value && item.body.text) {
      input.value = item.body.text;
      autosize();
    }
    showComposerError(errorText(err));
  }

  // renderMarks puts a line with the day before each day's first message,
  // and the "new messages" line before the first message that was unread
  // when the chat was opened. It runs once after a batch of changes.
  let marksQueued = false;
  function renderMarks() {
    if (marksQueued) return;
    marksQueued = true;
    queueMicrotask(() => {
      marksQueued = false;
      if (closed) return;
      for (const e of list.querySelectorAll(':scope > .day-sep, :scope > .unread-line')) e.remove();
      let day = '';
      let unreadShown = false;
      for (const li of [...list.children]) {
        const seq = Number(li.dataset.seq);
        const m = messages.get(seq);
        if (!m) continue;
        const d = dayKey(m.created_at);
        if (d !== day) {
          day = d;
          li.before(h('li', { class: 'day-sep', dataset: { seq: String(seq) } },
            h('span', {}, h('time', { datetime: m.created_at }, formatDay(m.created_at)))));
        }
        if (!unreadShown && unreadFrom && seq >= unreadFrom) {
          unreadShown = true;
          li.before(h('li', { class: 'unread-line', id: `unread-${chatId}`, dataset: { seq: String(seq) } },
            h('span', {}, t('conv.unread_line'))));
        }
      }
    });
  }

  // receipt is the mark on one's own message in a private chat: one tick
  // once sent, two once the other person has read it. Groups and channels
  // keep no per-member receipts.
  function receipt(m) {
    if (!chat || chat.kind !== 'private' || m.held) return null;
    const read = m.seq <= (chat.peer_read_seq || 0);
    const label = read ? t('msg.read') : t('msg.sent');
    return h('span', { class: `receipt${read ? ' read' : ''}`, role: 'img', 'aria-label': label, title: label }, read ? '✓✓' : '✓');
  }

  // renderReceipts updates the ticks after the other person read more.
  function renderReceipts() {
    for (const [seq, li] of els) {
      const old = li.querySelector('.receipt');
      const m = messages.get(seq);
      if (old && m) old.replaceWith(receipt(m) || '');
    }
  }

  function renderMedia(media) {
    if (media.kind === 'photo') {
      let w = media.width || 320;
      let hgt = media.height || 240;
      const scale = Math.min(1, 280 / w, 280 / hgt);
      w = Math.max(1, Math.round(w * scale));
      hgt = Math.max(1, Math.round(hgt * scale));
      const img = h('img', { alt: media.name || t('msg.photo'), width: String(w), height: String(hgt), class: 'photo' });
      const path = `/media/${media.media_id}/${media.thumbnail ? 'thumbnail' : 'content'}`;
      blobURL(path).then((u) => { img.src = u; }, () => { img.alt = t('msg.media_unavailable'); img.classList.add('broken'); });
      return h('button', { type: 'button', class: 'photo-btn', 'aria-label': t('msg.open_photo', { name: media.name || t('msg.photo') }), onclick: () => viewPhoto(media) }, img);
    }
    return h('div', { class: 'file' }, icon('file'),
      h('div', { class: 'file-info' }, h('span', { class: 'file-name', dir: 'auto' }, media.name || t('msg.file')), h('span', { class: 'muted' }, formatSize(media.size))),
      h('button', { type: 'button', class: 'btn small', onclick: (e) => download(media, e.currentTarget) }, t('msg.download')));
  }

  async function download(media, btn) {
    if (btn) btn.setAttribute('aria-busy', 'true');
    try {
      const u = await blobURL(`/media/${media.media_id}/content`);
      const a = h('a', { href: u, download: media.name || 'file' });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (err) {
      toast(errorText(err), { error: true });
    } finally {
      if (btn) btn.removeAttribute('aria-busy');
    }
  }

  function viewPhoto(media) {
    openDialog(media.name || t('msg.photo'), () => {
      const img = h('img', { alt: media.name || t('msg.photo'), class: 'full' });
      blobURL(`/media/${media.media_id}/content`).then((u) => { img.src = u; }, (err) => toast(errorText(err), { error: true }));
      return h('div', { class: 'modal-body viewer' }, img,
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', onclick: () => download(media) }, t('msg.download'))));
    }, { className: 'wide' });
  }

  // put adds or updates a message in place, keeping the list in seq order.
  function put(m) {
    if (m.chat_id !== chatId) return;
    if (m.deleted) {
      // Deleted for everyone: gone from the history, as a reload would show.
      removeMsg(m.seq);
      return;
    }
    const old = messages.get(m.seq);
    if (old && old.edited_at && m.edited_at && old.edited_at > m.edited_at) return;
    messages.set(m.seq, m);
    const li = renderMsg(m);
    const prev = els.get(m.seq) || tombs.get(m.seq);
    tombs.delete(m.seq);
    els.set(m.seq, li);
    if (viewer && prev) viewer.unobserve(prev);
    if (viewer && countsViews() && !viewed.has(m.seq)) viewer.observe(li);
    if (prev) {
      const focused = prev.contains(document.activeElement);
      prev.replaceWith(li);
      if (focused) li.querySelector('.more').focus();
      for (const r of [...messages.values()].filter((o) => o.reply_to === m.seq)) rerender(r.seq);
      return;
    }
    // Find the first shown message with a larger seq.
    let after = null;
    for (let node = list.lastElementChild; node && node !== top; node = node.previousElementSibling) {
      if (Number(node.dataset.seq) > m.seq) after = node;
      else break;
    }
    list.insertBefore(li, after);
    renderMarks();
    // Replies to it, loaded before it, can now quote it.
    const replies = [...messages.values()].filter((o) => o.reply_to === m.seq && o.seq !== m.seq);
    for (const r of replies) rerender(r.seq);
  }

  function rerender(seq) {
    const m = messages.get(seq);
    const prev = els.get(seq);
    if (!m || !prev) return;
    const li = renderMsg(m);
    els.set(seq, li);
    prev.replaceWith(li);
  }

  function removeMsg(seq) {
    if (!messages.has(seq)) return;
    messages.delete(seq);
    renderMarks();
    const li = els.get(seq);
    els.delete(seq);
    if (li) {
      const focused = li.contains(document.activeElement);
      li.remove();
      if (focused) input.focus();
    }
    for (const r of [...messages.values()].filter((o) => o.reply_to === seq)) rerender(r.seq);
    if (replyTo === seq || editing === seq) stopContext();
  }

  // removedByModerators drops a message the moderators removed, leaving a
  // line that says so where it was (a reload shows it as deleted: gone).
  function removedByModerators(seq) {
    const li = els.get(seq);
    if (!li) return;
    const tomb = h('li', { class: 'msg removed', id: `m-${chatId}-${seq}`, dataset: { seq: String(seq) } },
      h('p', { class: 'tombstone' }, t('mod.removed')));
    li.before(tomb);
    removeMsg(seq);
    tombs.set(seq, tomb);
    if (chat && chat.pinned_seq === seq) renderPinned();
  }

  function renderEdge() {
    replace(top, hasMore ? (loading ? t('conv.loading') : '') : t('conv.beginning'));
  }

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  }

  function toBottom(focus) {
    scroller.scrollTop = scroller.scrollHeight;
    jump.hidden = true;
    if (focus) input.focus();
    readVisible();
  }

  // scrollToMsg shows message seq, loading the history around it first
  // when it is not loaded (a search result, an old reply or pin).
  async function scrollToMsg(seq) {
    if (!els.get(seq) && !tombs.get(seq)) {
      try {
        await loadAround(seq);
      } catch (err) {
        toast(errorText(err), { error: true });
        return;
      }
    }
    const li = els.get(seq) || tombs.get(seq);
    if (!li || closed) return;
    li.scrollIntoView({ block: 'center' });
    li.classList.add('flash');
    setTimeout(() => li.classList.remove('flash'), 1200);
    li.querySelector('.more')?.focus({ preventScroll: true });
  }

  function lastSeq() {
    let max = 0;
    for (const s of messages.keys()) if (s > max) max = s;
    return max;
  }

  // readVisible marks the chat read when its newest messages are on screen.
  function readVisible() {
    if (!settled || !chat || !chat.role || chat.unavailable || chat.withheld || document.hidden || hasNewer || !nearBottom()) return;
    const d = store.dialogs.get(chatId);
    const seq = Math.max(lastSeq(), d ? d.chat.seq : 0);
    if (seq) markRead(chatId, seq);
  }

  async function loadOlder() {
    if (loading || !hasMore || closed || (chat && (chat.unavailable || chat.withheld))) return;
    loading = true;
    renderEdge();
    let first = Infinity;
    for (const s of messages.keys()) if (s < first) first = s;
    const path = first === Infinity ? `/chats/${chatId}/messages?limit=${pageSize}` : `/chats/${chatId}/messages?before=${first}&limit=${pageSize}`;
    try {
      const r = await api('GET', path);
      if (closed) return;
      const fromBottom = scroller.scrollHeight - scroller.scrollTop;
      for (const m of r.messages) if (!messages.has(m.seq)) put(m);
      learnSenders(r.messages);
      hasMore = r.messages.length === pageSize;
      scroller.scrollTop = scroller.scrollHeight - fromBottom; // keep what was on screen in place
    } catch (err) {
      if (err.reason === 'chat_unavailable') {
        // Taken down since the chat list was loaded: say so, and why, once.
        loading = false;
        if (closed) return;
        chat = { ...(chat || {}), unavailable: (chat && chat.unavailable) || true };
        renderHead();
        refreshChat(chatId);
        return;
      }
      if (isWithheld(err)) {
        // Withheld where the reader is since the chat was loaded: say so
        // with the server's words until the chat, fetched again, says why.
        loading = false;
        if (closed) return;
        chat = { ...(chat || {}), withheld: (chat && chat.withheld) || { detail: err.detail } };
        renderHead();
        refreshChat(chatId);
        return;
      }
      if (!closed) toast(errorText(err), { error: true });
      hasMore = messages.size > 0 && hasMore;
      if (messages.size === 0) {
        loading = false;
        throw err;
      }
    }
    loading = false;
    renderEdge();
    // Fill the screen, so that there is something to scroll.
    if (hasMore && scroller.scrollHeight <= scroller.clientHeight) loadOlder();
  }

  // clearWindow forgets every loaded message, to load another part of the
  // history; what is being replied to or edited stays.
  function clearWindow() {
    for (const li of els.values()) li.remove();
    for (const tomb of tombs.values()) tomb.remove();
    for (const e of list.querySelectorAll(':scope > .day-sep, :scope > .unread-line')) e.remove();
    messages.clear();
    els.clear();
    tombs.clear();
  }

  // loadAround replaces the loaded history with the messages around seq:
  // half a page before it (it included) and half after.
  async function loadAround(seq) {
    const half = pageSize / 2;
    const [older, newer] = await Promise.all([
      api('GET', `/chats/${chatId}/messages?before=${seq + 1}&limit=${half}`),
      api('GET', `/chats/${chatId}/messages?after=${seq}&limit=${half}`),
    ]);
    if (closed) return;
    clearWindow();
    for (const m of [...older.messages, ...newer.messages]) put(m);
    learnSenders([...messages.values()]);
    hasMore = older.messages.length === half;
    hasNewer = newer.messages.length === half;
    jump.hidden = !hasNewer;
    renderEdge();
  }

  // loadNewer loads the next page after the loaded window.
  async function loadNewer() {
    if (loading || !hasNewer || closed) return;
    loading = true;
    try {
      const r = await api('GET', `/chats/${chatId}/messages?after=${lastSeq()}&limit=${pageSize}`);
      if (closed) return;
      for (const m of r.messages) if (!messages.has(m.seq)) put(m);
      learnSenders(r.messages);
      hasNewer = r.messages.length === pageSize;
    } catch (err) {
      if (!closed) toast(errorText(err), { error: true });
    } finally {
      loading = false;
    }
  }

  // toFirstUnread shows where the user stopped reading: the "new messages"
  // line at the top of the screen, loading the history from there if the
  // newest page does not reach back to it, or else the newest message.
  async function toFirstUnread() {
    settled = true;
    if (!unreadFrom) {
      toBottom(false);
      return;
    }
    let first = Infinity;
    for (const s of messages.keys()) if (s < first) first = s;
    if (first > unreadFrom && hasMore) {
      settled = false;
      try {
        await loadAround(unreadFrom); // the first unread, some read ones before it
      } catch (err) {
        toast(errorText(err), { error: true });
      }
      settled = true;
      if (closed) return;
    }
    await new Promise((resolve) => queueMicrotask(resolve)); // the marks are drawn
    const line = document.getElementById(`unread-${chatId}`);
    if (!line) {
      toBottom(false);
      return;
    }
    line.scrollIntoView({ block: 'start' });
    jump.hidden = nearBottom();
    readVisible();
  }

  // toNewest goes to the newest message, loading it if the window stops
  // short of it.
  async function toNewest(focus) {
    if (hasNewer) await reloadHistory();
    toBottom(focus);
  }

  scroller.addEventListener('scroll', () => {
    if (scroller.scrollTop < 200) loadOlder();
    if (hasNewer && scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 200) loadNewer();
    if (nearBottom() && !hasNewer) { jump.hidden = true; readVisible(); }
  }, { passive: true });

  // Search ----------------------------------------------------------------------
  let searchSeq = 0;
  let searchTimer = 0;

  function toggleSearch(open = searchBar.hidden) {
    searchBar.hidden = !open;
    searchBtn.setAttribute('aria-expanded', String(open));
    if (open) {
      searchInput.focus();
      searchInput.select();
    } else {
      clearTimeout(searchTimer);
      searchSeq++;
      searchInput.value = '';
      replace(searchResults);
      searchBtn.focus();
    }
  }

  async function runSearch() {
    const q = searchInput.value.trim();
    const mine = ++searchSeq;
    if (!q) {
      replace(searchResults);
      return;
    }
    try {
      const r = await api('GET', `/search/messages?chat_id=${chatId}&limit=20&q=${encodeURIComponent(q)}`);
      if (mine !== searchSeq || closed) return;
      if (!r.messages.length) {
        replace(searchResults, h('p', { class: 'muted' }, t('conv.search_none')));
        return;
      }
      learnSenders(r.messages);
      replace(searchResults, h('p', { class: 'muted visually-hidden' }, t('conv.search_count', { count: r.messages.length })),
        h('ul', { class: 'pick-list' }, ...r.messages.map((m) => h('li', {}, h('button', {
          type: 'button', class: 'pick search-hit', dataset: { seq: String(m.seq) },
          onclick: () => scrollToMsg(m.seq),
        }, h('span', { class: 'hit-who' }, h('bdi', { dataset: { user: String(m.sender_id) } }, userName(m.sender_id)), ' · ',
          h('time', { datetime: m.created_at }, formatDateTime(m.created_at))),
        h('span', { class: 'hit-text', dir: 'auto' }, snippet(m)))))));
    } catch (err) {
      if (mine === searchSeq && !closed) replace(searchResults, h('p', { class: 'form-error', role: 'alert' }, errorText(err)));
    }
  }

  searchInput.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 250);
  });
  searchInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      clearTimeout(searchTimer);
      runSearch();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      toggleSearch(false);
    }
  });

  // Names -------------------------------------------------------------------
  // The chat's member list names its senders; one who is not in it (past
  // the first 1,000 of a big group, or who joined since) is looked up alone.
  let members = null; // the promise of the member list, once asked for

  function loadMembers() {
    if (!chat || !chat.role || members) return;
    members = chatMembers(chatId);
    members.then(() => learnSenders([...messages.values()]), () => { members = null; });
  }

  function learnSenders(msgs) {
    if (!chat || chat.kind === 'channel' || !members) return;
    members.then(() => {
      if (closed) return;
      for (const m of msgs) learnName(chatId, m.sender_id);
    }, () => {});
  }

  function onUsers() {
    if (!chat) return;
    renderTitle();
    for (const e of list.querySelectorAll('[data-user]')) e.textContent = userName(Number(e.dataset.user));
  }

  // Live changes --------------------------------------------------------------
  function onEvent(ev) {
    if (ev.chat_id !== chatId) return;
    const wasBottom = nearBottom();
    switch (ev.kind) {
      case 'message': {
        if (messages.has(ev.message.seq)) return;
        if (hasNewer) {
          // Put after what is loaded it would leave a gap: it waits.
          jump.hidden = false;
          break;
        }
        put(ev.message);
        const own = ev.message.sender_id === store.me.id;
        if (wasBottom || own) toBottom(false);
        else jump.hidden = false;
        break;
      }
      case 'edit':
        if (messages.has(ev.message.seq)) put(ev.message);
        if (chat && chat.pinned_seq === ev.message.seq) renderPinned();
        break;
      case 'delete':
        removeMsg(ev.message_seq);
        break;
      case 'removed':
        removedByModerators(ev.message_seq);
        break;
      case 'restored': {
        // Put back where it was, if that part of the history is loaded.
        const seq = ev.message.seq;
        let first = Infinity;
        for (const s of messages.keys()) if (s < first) first = s;
        if (tombs.has(seq) || seq > first || !hasMore) put(ev.message);
        break;
      }
      case 'takedown':
        if (chat) {
          chat = { ...chat, unavailable: chat.unavailable || true };
          renderHead(); // the reason follows with the chat, fetched again
        }
        break;
      case 'reinstated':
        if (chat) {
          chat = { ...chat, unavailable: '' };
          reloadHistory();
          renderHead();
        }
        break;
      case 'restricted':
      case 'unrestricted':
        // Withheld in some countries, or no longer: the chat, fetched again
        // (by the store), says whether here; a message is fetched again.
        if (ev.message_seq && messages.has(ev.message_seq)) refetch(ev.message_seq);
        break;
      default:
    }
  }

  function onChat(c) {
    if (!c || c.id !== chatId) return;
    const wasDown = chat && (chat.unavailable || chat.withheld);
    const peerRead = chat ? chat.peer_read_seq || 0 : 0;
    chat = { ...chat, ...c, unavailable: c.unavailable || '', withheld: c.withheld || null };
    if (wasDown && !chat.unavailable && !chat.withheld) reloadHistory();
    renderHead();
    if ((chat.peer_read_seq || 0) !== peerRead) renderReceipts();
  }

  // refetch fetches one loaded message again, as the reader may now see it.
  async function refetch(seq) {
    try {
      const r = await api('GET', `/chats/${chatId}/messages?before=${seq + 1}&limit=1`);
      const m = r.messages.find((x) => x.seq === seq);
      if (!closed && m && messages.has(seq)) put(m);
    } catch {
      // The chat itself changed; its event says how.
    }
  }

  function onGone(id) {
    if (id !== chatId || !chat) return;
    chat = { ...chat, role: '' };
    renderHead();
  }

  function onHidden(m) {
    if (m.chat === chatId) removeMsg(m.seq);
  }

  function onResynced(id) {
    if (id && id !== chatId) return;
    // The gap was too long to replay: start the history again.
    reloadHistory();
  }

  function reloadHistory() {
    clearWindow();
    hasMore = true;
    hasNewer = false;
    return loadOlder().then(() => toBottom(false), () => {});
  }

  // Actions on a message ----------------------------------------------------
  function actions(seq, anchor) {
    const m = messages.get(seq);
    if (!m || !chat) return;
    const own = m.sender_id === store.me.id;
    const member = !!chat.role;
    const items = [];
    if (canPost(chat)) items.push({ label: t('msg.reply'), action: () => startReply(seq) });
    if (own && !m.forward && !m.withheld && canPost(chat)) items.push({ label: t('msg.edit'), action: () => startEdit(seq) });
    if (!m.withheld) items.push({ label: t('msg.forward'), action: () => forward(m) });
    if (can(chat, 'pin')) {
      if (chat.pinned_seq === seq) items.push({ label: t('msg.unpin'), action: () => pin(0) });
      else items.push({ label: t('msg.pin'), action: () => pin(seq) });
    }
    if (m.media && m.media.kind !== 'photo') items.push({ label: t('msg.download'), action: () => download(m.media) });
    if (!own) items.push({ label: t('report.action'), name: 'report', action: () => reportMsg(m, anchor), danger: true });
    if (member) items.push({ label: t('msg.delete_me'), action: () => deleteMsg(seq, 'me'), danger: true });
    if (member && (own || isAdmin(chat))) items.push({ label: t('msg.delete_all'), action: () => deleteMsg(seq, 'everyone'), danger: true });
    menu(anchor, t('msg.actions'), items);
  }

  function reportMsg(m, anchor) {
    // A channel's post is the channel's, whoever of its admins wrote it.
    const from = chat.kind === 'channel' ? chat.title : userName(m.sender_id);
    reportDialog({ kind: 'message', chat_id: chatId, seq: m.seq }, {
      title: t('report.title_message'),
      what: t('report.what_message', { name: from, text: snippet(m) }),
      returnTo: anchor,
    });
  }

  // startReply and startEdit take the message when it is not loaded (a
  // reply or edit restored after a reload).
  function startReply(seq, m = messages.get(seq)) {
    if (editing) stopContext();
    replyTo = seq;
    saveComposerContext(chatId, { reply_to: seq });
    replace(contextBar,
      h('div', { class: 'context-text' }, h('strong', {}, t('composer.replying_to', { name: userName(m.sender_id) })), h('span', { dir: 'auto' }, snippet(m))),
      iconButton('close', t('composer.cancel_reply'), { onclick: () => { stopContext(); input.focus(); } }));
    contextBar.hidden = false;
    input.focus();
  }

  function startEdit(seq, m = messages.get(seq), text = m.text) {
    if (!editing) stash = input.value;
    replyTo = 0;
    editing = seq;
    input.value = text;
    saveComposerContext(chatId, { editing: seq, text });
    replace(contextBar,
      h('div', { class: 'context-text' }, h('strong', {}, t('composer.editing')), h('span', { dir: 'auto' }, snippet(m))),
      iconButton('close', t('composer.cancel_edit'), { onclick: () => { stopContext(); input.focus(); } }));
    contextBar.hidden = false;
    autosize();
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  function stopContext() {
    if (editing) {
      input.value = stash;
      stash = '';
      autosize();
    }
    editing = 0;
    replyTo = 0;
    saveComposerContext(chatId, null);
    contextBar.hidden = true;
    replace(contextBar);
    showComposerError('');
  }

  async function pin(seq) {
    try {
      await api('PUT', `/chats/${chatId}/pin`, { seq });
      chat.pinned_seq = seq;
      renderPinned();
      toast(seq ? t('msg.pinned') : t('msg.unpinned'));
    } catch (err) {
      toast(errorText(err), { error: true });
    }
  }

  async function deleteMsg(seq, who) {
    if (who === 'everyone') {
      const ok = await confirmDialog(t('msg.delete_all_title'), t('msg.delete_all_text'), t('msg.delete'), { danger: true });
      if (!ok) return;
    }
    try {
      await api('DELETE', `/chats/${chatId}/messages/${seq}?for=${who}`);
      removeMsg(seq);
      if (who === 'me') broadcast({ type: 'hidden', chat: chatId, seq });
      input.focus();
    } catch (err) {
      toast(errorText(err), { error: true });
    }
  }

  function forward(m) {
    openDialog(t('msg.forward_title'), (close) => {
      const ul = h('ul', { class: 'pick-list' });
      for (const d of sortedDialogs()) {
        if (!canPost(d.chat)) continue;
        ul.append(h('li', {}, h('button', {
          type: 'button', class: 'pick',
          onclick: async () => {
            close();
            try {
              await send(d.chat.id, { forward_from: { chat_id: m.chat_id, seq: m.seq } });
              toast(t('msg.forwarded_to', { title: chatTitle(d.chat) }));
            } catch (err) {
              toast(errorText(err), { error: true });
            }
          },
        }, avatar(chatTitle(d.chat), d.chat.id), h('span', { dir: 'auto' }, chatTitle(d.chat)))));
      }
      return h('div', { class: 'modal-body' }, ul.children.length ? ul : h('p', { class: 'muted' }, t('msg.forward_none')));
    });
  }

  // Writing -------------------------------------------------------------------
  function autosize() {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
    const n = [...input.value].length;
    const max = textLimit();
    counter.hidden = n < max - 200;
    counter.textContent = t('composer.count', { count: n, max });
    counter.classList.toggle('over', n > max);
  }

  function showComposerError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
    if (text) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  input.addEventListener('input', () => {
    autosize();
    if (editing) saveComposerContext(chatId, { editing, text: input.value });
    else saveDraft(chatId, input.value);
    if (errorBox.textContent) showComposerError('');
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    } else if (e.key === 'Escape' && (editing || replyTo)) {
      e.preventDefault();
      stopContext();
    } else if (e.key === 'ArrowUp' && !input.value && !editing) {
      const mine = [...messages.values()].filter((m) => m.sender_id === store.me.id && !m.forward && !m.withheld);
      if (mine.length) {
        e.preventDefault();
        startEdit(mine.reduce((a, b) => (a.seq > b.seq ? a : b)).seq);
      }
    }
  });

  // textLimit is the most characters the box may hold: a caption's limit
  // while files are attached (the text goes with the first), else a
  // message's.
  function textLimit() {
    return attachments.length ? limits.caption : limits.text;
  }

  // addFiles queues files to send, each as a message of its own; one over
  // the server's limit is refused at once, with a message, before any of
  // it is sent, and the others are kept.
  async function addFiles(files) {
    learnLimits(await serverConfig());
    showComposerError('');
    for (const file of files) {
      if (file.size > limits.file) {
        showComposerError(t('upload.too_large', { name: file.name, max: formatSize(limits.file) }));
        continue;
      }
      attachments.push(file);
    }
    renderAttachBar();
    autosize();
    if (attachments.length) input.focus();
  }

  function renderAttachBar() {
    attachBar.hidden = !attachments.length;
    replace(attachBar, ...attachments.map((file, i) => h('span', { class: 'attach-item' },
      icon(file.type.startsWith('image/') ? 'attach' : 'file'),
      h('span', { class: 'attach-name', dir: 'auto' }, file.name),
      h('span', { class: 'muted' }, formatSize(file.size)),
      iconButton('close', t('upload.remove_named', { name: file.name }), {
        onclick: () => {
          attachments.splice(i, 1);
          renderAttachBar();
          input.focus();
        },
      }))));
  }
  fileInput.multiple = true;
  fileInput.addEventListener('change', () => {
    addFiles([...fileInput.files]);
    fileInput.value = '';
  });
  // Dropping or pasting files attaches every one of them.
  el.addEventListener('dragover', (e) => { if (canPost(chat || {}) && e.dataTransfer.types.includes('Files')) e.preventDefault(); });
  el.addEventListener('drop', (e) => {
    if (!e.dataTransfer.files.length || !canPost(chat || {})) return;
    e.preventDefault();
    addFiles([...e.dataTransfer.files]);
  });
  input.addEventListener('paste', (e) => {
    const files = [...(e.clipboardData?.files || [])];
    if (files.length) { e.preventDefault(); addFiles(files); }
  });

  async function uploadAttachment(file) {
    const progress = h('progress', { max: '1', value: '0', 'aria-label': t('upload.progress', { name: file.name }) });
    const pct = h('span', { class: 'pct' }, '0%');
    const cancel = h('button', { type: 'button', class: 'btn small' }, t('common.cancel'));
    replace(attachBar, h('span', { class: 'attach-name', dir: 'auto' }, file.name), progress, pct, cancel);
    const fmt = new Intl.NumberFormat(document.documentElement.lang, { style: 'percent' });
    const waiting = h('span', { class: 'muted', role: 'status' });
    attachBar.append(waiting);
    const job = uploadResumable(file, (f) => { progress.value = f; pct.textContent = fmt.format(f); }, {
      onWaiting: (w) => { waiting.textContent = w ? t('upload.waiting') : ''; },
    });
    uploading = job;
    cancel.addEventListener('click', () => job.abort());
    try {
      return await job.done;
    } catch (err) {
      if (err.reason === 'too_large' && err.limit) learnMaxFile(err.limit);
      throw err;
    } finally {
      uploading = null;
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (sendBtn.disabled) return;
    const text = input.value;
    if (!text.trim() && !attachments.length) return;
    if ([...text].length > textLimit()) {
      // The server would refuse it: say so now, and keep every character.
      showComposerError(t('error.too_long', { max: textLimit() }));
      input.focus();
      return;
    }
    sendBtn.disabled = true;
    form.setAttribute('aria-busy', 'true');
    showComposerError('');
    try {
      if (editing) {
        const m = await api('PATCH', `/chats/${chatId}/messages/${editing}`, { text });
        put(m);
        const seq = editing;
        stopContext(); // puts back what was being written before
        scrollToMsg(seq);
        input.focus();
        return;
      }
      // Each file goes as a message of its own, in order; the text and the
      // reply go with the first message sent.
      let first = true;
      do {
        const body = {};
        if (first && text.trim()) body.text = text;
        if (first && replyTo) body.reply_to = replyTo;
        if (attachments.length) {
          const media = await uploadAttachment(attachments[0]);
          attachments.shift();
          renderAttachBar();
          if (media.status === 'held') {
            toast(t('upload.held'));
            continue;
          }
          body.media_id = media.id;
        }
        if (sendKeyText !== JSON.stringify(body)) {
          sendKey = newKey(); // a retry of the same message keeps its key
          sendKeyText = JSON.stringify(body);
        }
        let m;
        try {
          if (!body.media_id && outbox(chatId).length) throw new ApiError({ network: true }); // behind those waiting
          m = await send(chatId, body, sendKey);
        } catch (err) {
          if (!err.network || body.media_id) throw err;
          // The server cannot be reached: the message waits in the outbox,
          // shown with a clock, and goes when the connection returns.
          queueMessage(chatId, body, sendKey);
          unreadFrom = 0;
          renderMarks();
          sendKey = '';
          sendKeyText = '';
          input.value = '';
          saveDraft(chatId, '');
          autosize();
          stopContext();
          toBottom(true);
          flushOutbox();
          return;
        }
        unreadFrom = 0; // writing is reading: no line above what came before
        if (hasNewer) await reloadHistory(); // the newest messages, with this one
        sendKey = '';
        sendKeyText = '';
        if (first) {
          first = false;
          input.value = '';
          saveDraft(chatId, '');
          autosize();
          stopContext();
        }
        put(m);
        if (m.held) {
          // Stored, but nobody else sees it until a moderator releases it.
          const li = els.get(m.seq);
          if (li) { li.classList.add('held'); li.append(h('p', { class: 'held-note' }, t('mod.held_short'))); }
          toast(t('mod.held'));
        }
        toBottom(true);
      } while (attachments.length);
    } catch (err) {
      renderAttachBar(); // what is left, to try again
      if (err.name === 'AbortError') return;
      showComposerError(errorText(err));
      input.focus();
    } finally {
      sendBtn.disabled = false;
      form.removeAttribute('aria-busy');
    }
  });

  // restoreContext puts back the reply or the edit that was under way when
  // the chat was last open here (before a reload), if it still can be.
  async function restoreContext() {
    const ctx = composerContext(chatId);
    const seq = ctx ? ctx.reply_to || ctx.editing : 0;
    if (!seq || !canPost(chat)) {
      saveComposerContext(chatId, null);
      return;
    }
    let m = messages.get(seq);
    if (!m) {
      try {
        const r = await api('GET', `/chats/${chatId}/messages?before=${seq + 1}&limit=1`);
        m = r.messages.find((x) => x.seq === seq);
      } catch {
        return; // kept, to try again next time
      }
    }
    if (closed) return;
    if (!m || m.deleted || (ctx.editing && m.sender_id !== store.me.id)) {
      saveComposerContext(chatId, null);
      return;
    }
    if (ctx.editing) startEdit(seq, m, typeof ctx.text === 'string' ? ctx.text : m.text);
    else startReply(seq, m);
  }

  // Start -------------------------------------------------------------------
  const offs = [
    on('event', onEvent), on('chat', onChat), on('gone', onGone), on('hidden', onHidden), on('resynced', onResynced),
    on('users', onUsers), on('outbox', onOutbox), on('outbox-sent', onOutboxSent), on('outbox-failed', onOutboxFailed),
  ];
  const onVisible = () => readVisible();
  document.addEventListener('visibilitychange', onVisible);
  window.addEventListener('focus', onVisible);

  input.value = draft(chatId);
  renderEdge();

  (async () => {
    try {
      if (!chat) {
        chat = await api('GET', `/chats/${chatId}`);
        if (chat.role) putChat(chat);
      }
      if (closed) return;
      renderHead();
      if (chat.unavailable || chat.withheld) return;
      loadMembers();
      await loadOlder();
      if (closed) return;
      renderPending();
      if (at) {
        settled = true;
        await scrollToMsg(at);
      } else {
        await toFirstUnread();
      }
      if (closed) return;
      learnLimits(await serverConfig());
      if (closed) return;
      autosize();
      await restoreContext();
    } catch (err) {
      if (closed) return;
      replace(el, h('section', { class: 'placeholder' },
        h('h2', { tabindex: '-1' }, isWithheld(err) ? t('law.withheld_short') : t('conv.unavailable')),
        h('p', { role: 'alert' }, errorText(err)),
        h('a', { href: '/', class: 'btn' }, t('conv.back'))));
    }
  })();

  return {
    el,
    chatId,
    focus: () => input.focus({ preventScroll: true }),
    leave: () => {
      closed = true;
      if (viewer) viewer.disconnect();
      clearTimeout(viewTimer);
      for (const off of offs) off();
      document.removeEventListener('visibilitychange', onVisible);
      window.removeEventListener('focus', onVisible);
      if (uploading) uploading.abort();
      document.title = t('app.title');
    },
  };
}
