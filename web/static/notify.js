// Telling the user of new messages while they look elsewhere: the number
// of unread messages in the tab's title, and, if they turned it on in the
// settings, a desktop notification for each message that arrives while the
// tab is hidden. Permission is asked only from that setting, never on load.
import { t } from './i18n.js';
import { store, on, chatTitle, userName } from './store.js';
import { navigate } from './nav.js';

const settingKey = 'kurir.notifications';
const countPrefix = /^\(\d+\+?\) /;

// notificationsSupported says whether this browser can show desktop
// notifications at all.
export function notificationsSupported() {
  return 'Notification' in window;
}

// notificationsOn says whether the user turned desktop notifications on
// and the browser lets the app show them.
export function notificationsOn() {
  return notificationsSupported() && localStorage.getItem(settingKey) === 'on' && Notification.permission === 'granted';
}

// setNotifications turns desktop notifications on (asking the browser's
// permission, which the user may refuse) or off. It resolves to whether
// they are on.
export async function setNotifications(on) {
  if (!on) {
    localStorage.removeItem(settingKey);
    return false;
  }
  if (!notificationsSupported()) return false;
  const answer = Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission();
  if (answer !== 'granted') {
    localStorage.removeItem(settingKey);
    return false;
  }
  localStorage.setItem(settingKey, 'on');
  return true;
}

// unreadTotal is how many unread messages the chat list shows.
export function unreadTotal() {
  let n = 0;
  for (const d of store.dialogs.values()) n += d.unread || 0;
  return n;
}

// The title: whatever the screen set, with the count in front. Screens set
// document.title freely; an observer puts the count back.
function titleWithCount() {
  const base = document.title.replace(countPrefix, '');
  const n = store.me ? unreadTotal() : 0;
  return n > 0 ? `(${n > 999 ? '999+' : n}) ${base}` : base;
}

function updateTitle() {
  const want = titleWithCount();
  if (document.title !== want) document.title = want;
}

function notifyMessage(ev) {
  const m = ev.message;
  if (!store.me || !m || m.sender_id === store.me.id || !document.hidden || !notificationsOn()) return;
  const d = store.dialogs.get(ev.chat_id);
  if (!d) return;
  const title = chatTitle(d.chat);
  const text = m.text ? m.text.slice(0, 200) : m.media ? (m.media.kind === 'photo' ? t('msg.photo') : m.media.name || t('msg.file')) : '';
  const body = d.chat.kind === 'group' ? `${userName(m.sender_id)}: ${text}` : text;
  try {
    // One per chat, the newest replacing the last; every tab shows the
    // same one, so a person with two tabs open is not told twice.
    const n = new Notification(title, { body, tag: `kurir-chat-${ev.chat_id}`, lang: document.documentElement.lang, dir: 'auto' });
    n.onclick = () => {
      window.focus();
      navigate(`/chats/${ev.chat_id}`);
      n.close();
    };
  } catch {
    // Some browsers (Android's) allow notifications only from a service worker.
  }
}

// startNotify keeps the title's count current and shows notifications.
export function startNotify() {
  on('dialogs', updateTitle);
  on('event', (ev) => { if (ev.kind === 'message') notifyMessage(ev); });
  const title = document.querySelector('title');
  if (title) new MutationObserver(updateTitle).observe(title, { childList: true, characterData: true, subtree: true });
  updateTitle();
}
