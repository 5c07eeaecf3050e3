// The moderation console's words and formats: what the server's codes
// (categories, sources, states, action kinds, history events) are called in
// the reader's language, how far away a deadline is, and what a case is about.
import { api } from './api.js';
import { t, language } from './i18n.js';
import { userName } from './store.js';
import { isStaff } from './roles.js';

// Staff (isStaff, in roles.js) may open the console; what each may do there
// is decided by the server, and mirrored by can so that the console offers
// only what works.
export { isStaff };

// can reports whether role may do what: view and sort (assign, escalate,
// comment) for all staff, act (act, reverse, dismiss, decide appeals) for
// moderators and admins.
export function can(role, what) {
  if (what === 'view' || what === 'sort') return isStaff(role);
  if (what === 'act') return role === 'moderator' || role === 'admin';
  return role === 'admin';
}

// Categories are labelled by the server, which has them in every language
// it writes statements in; the labels are fetched once per language.
const categoryLists = new Map(); // language -> Promise of [{id, label}]

export function categories() {
  const lang = language();
  if (!categoryLists.has(lang)) {
    const p = api('GET', `/report-reasons?lang=${encodeURIComponent(lang)}`).then((r) => r.reasons);
    p.catch(() => categoryLists.delete(lang));
    categoryLists.set(lang, p);
  }
  return categoryLists.get(lang);
}

let known = new Map(); // category ID -> label, of the language last loaded

// loadCategories makes categoryLabel answer in the current language.
export async function loadCategories() {
  const list = await categories();
  known = new Map(list.map((c) => [c.id, c.label]));
  return list;
}

export function categoryLabel(id) {
  return known.get(id) || id;
}

export const sources = ['user_report', 'trusted_flagger', 'notice', 'hash_bank', 'text_rule', 'classifier', 'legal_order', 'own_initiative'];

export function sourceLabel(s) {
  const labels = {
    user_report: t('console.source.user_report'),
    trusted_flagger: t('console.source.trusted_flagger'),
    notice: t('console.source.notice'),
    hash_bank: t('console.source.hash_bank'),
    text_rule: t('console.source.text_rule'),
    classifier: t('console.source.classifier'),
    legal_order: t('console.source.legal_order'),
    own_initiative: t('console.source.own_initiative'),
  };
  return labels[s] || s;
}

export function stateLabel(s) {
  const labels = {
    open: t('console.state.open'),
    escalated: t('console.state.escalated'),
    resolved: t('console.state.resolved'),
    actioned: t('console.outcome.actioned'),
    dismissed: t('console.outcome.dismissed'),
  };
  return labels[s] || s;
}

export function actionLabel(kind) {
  const labels = {
    remove_message: t('console.act.remove_message'),
    takedown: t('console.act.takedown'),
    suspend: t('console.act.suspend'),
    ban: t('console.act.ban'),
    label: t('console.act.label'),
    restrict: t('console.act.restrict'),
    remove_media: t('console.act.remove_media'),
    dismiss: t('console.act.dismiss'),
    escalate: t('console.act.escalate'),
    assign: t('console.act.assign'),
  };
  return labels[kind] || kind;
}

// labels are the warnings a label action can put on a group or channel.
export const labels = ['sensitive', 'graphic', 'misleading', 'scam_risk'];

export function warningLabel(l) {
  const names = {
    sensitive: t('console.label.sensitive'),
    graphic: t('console.label.graphic'),
    misleading: t('console.label.misleading'),
    scam_risk: t('console.label.scam_risk'),
  };
  return names[l] || l;
}

export function groundLabel(g) {
  return g === 'illegal' ? t('console.ground.illegal') : t('console.ground.terms');
}

// eventLabel names an entry of a case's history.
export function eventLabel(kind) {
  const labels = {
    opened: t('console.event.opened'),
    signal: t('console.event.signal'),
    assign: t('console.event.assign'),
    escalate: t('console.event.escalate'),
    comment: t('console.event.comment'),
    dismiss: t('console.event.dismiss'),
    action: t('console.event.action'),
    reversed: t('console.event.reversed'),
    appeal: t('console.event.appeal'),
    appeal_upheld: t('console.event.appeal_upheld'),
    appeal_rejected: t('console.event.appeal_rejected'),
  };
  return labels[kind] || kind;
}

// accounts are the accounts the console has looked up (GET
// /moderation/users/{id}, staff only and audited), each looked up once per
// console session: forgetAccounts empties it when the console closes, and
// forgetAccount drops one whose standing a decision has just changed.
const accounts = new Map(); // user ID -> Promise of the account, or null if refused
const arrived = new Map(); // user ID -> the account, once it has arrived

// account resolves to what a reviewer sees of user id: who, their
// standing, the decisions against them and their record as a reporter; or
// to null if the server would not say.
export function account(id) {
  if (!accounts.has(id)) {
    accounts.set(id, api('GET', `/moderation/users/${id}`).then((a) => {
      arrived.set(id, a);
      return a;
    }, () => null));
  }
  return accounts.get(id);
}

// knownAccount is user id's account if it has been looked up, else null.
export function knownAccount(id) {
  return arrived.get(id) || null;
}

// loadPeople looks up the accounts of ids (0s and repeats skipped), so that
// person can name them.
export function loadPeople(ids) {
  return Promise.all([...new Set(ids.filter(Boolean))].map(account));
}

export function forgetAccount(id) {
  accounts.delete(id);
}

export function forgetAccounts() {
  accounts.clear();
  arrived.clear();
}

// person names a user for a reviewer: "Display Name (@username)" once the
// console has looked them up, else what the app knows of them ("User 17" at
// worst); 0 is the system. The name is isolated so that its direction does
// not reorder the sentence around it.
export function person(id) {
  if (!id) return t('console.system');
  const a = arrived.get(id);
  if (!a) return userName(id);
  const name = a.display_name && a.display_name !== a.username ? `${a.display_name} (@${a.username})` : `@${a.username}`;
  return `\u2068${name}\u2069`;
}

// chatTitles are the titles of chats the console has looked up; private
// chats and those staff cannot open stay unnamed.
const chatTitles = new Map(); // chat ID -> Promise of title or ''

export function chatTitle(id) {
  if (!chatTitles.has(id)) {
    chatTitles.set(id, api('GET', `/chats/${id}`).then((c) => c.title || '', () => ''));
  }
  return chatTitles.get(id);
}

// subjectText says what a case is about; title is its chat's, if known.
export function subjectText(s, title) {
  // The title is isolated so that its direction does not reorder the rest.
  const chat = title ? t('console.quoted', { title: `\u2068${title}\u2069` }) : t('console.chat_n', { id: s.chat_id });
  switch (s.kind) {
    case 'message': return t('console.subject.message', { seq: s.seq, chat });
    case 'chat': return t('console.subject.chat', { chat });
    case 'user': return t('console.subject.user', { name: person(s.user_id) });
    case 'media': return t('console.subject.media', { id: s.media_id });
    case 'notice': return t('console.subject.notice', { id: s.notice_id });
  }
  return s.kind;
}

// relativeTime is how far iso is from now ("in 40 minutes", "3 hours ago").
export function relativeTime(iso, now = Date.now()) {
  const secs = (new Date(iso).getTime() - now) / 1000;
  const abs = Math.abs(secs);
  const fmt = new Intl.RelativeTimeFormat(language(), { numeric: 'auto' });
  if (abs < 60) return fmt.format(Math.round(secs), 'second');
  if (abs < 3600) return fmt.format(Math.round(secs / 60), 'minute');
  if (abs < 48 * 3600) return fmt.format(Math.round(secs / 3600), 'hour');
  return fmt.format(Math.round(secs / 86400), 'day');
}

// priorityLevel is a case's priority as a band, for its colour.
export function priorityLevel(p) {
  if (p >= 50) return 'high';
  if (p >= 25) return 'medium';
  return 'low';
}
