// The words of law-enforcement requests, shared by the officers' portal
// (legal.js) and the legal team's console (console-legal.js): what the
// server's codes for kinds, processes, states, data categories, targets and
// timeline steps are called in the reader's language, and the styles both
// use.
import { t, language } from './i18n.js';
import { h, formatDateTime, formatSize } from './dom.js';
import { countryName } from './jurisdiction.js';

export const kinds = ['emergency', 'preservation', 'disclosure', 'removal', 'other'];

// processesFor are the processes each kind of request may rest on, as the
// server checks them.
export const processesFor = {
  emergency: ['emergency'],
  preservation: ['preservation', 'subpoena', 'court_order', 'warrant', 'mlat'],
  disclosure: ['subpoena', 'court_order', 'warrant', 'mlat'],
  removal: ['removal_order', 'tco_removal_order', 'court_order'],
  other: ['subpoena', 'court_order', 'warrant', 'mlat', 'emergency', 'preservation', 'removal_order', 'tco_removal_order', 'other'],
};

// dataKinds are the kinds of request that ask for data categories.
export const dataKinds = ['emergency', 'disclosure'];

export const categories = ['subscriber', 'access', 'content'];

// contentProcesses are those under which content may be disclosed.
export const contentProcesses = ['warrant', 'mlat'];

export const states = ['received', 'in_review', 'needs_info', 'approved', 'fulfilled', 'rejected', 'withdrawn'];

export const targetKinds = ['user', 'username', 'phone', 'link'];

// open reports whether a request in state s is still being worked on.
export function isOpen(s) {
  return s !== 'fulfilled' && s !== 'rejected' && s !== 'withdrawn';
}

export function kindLabel(k) {
  const labels = {
    emergency: t('legal.kind.emergency'),
    preservation: t('legal.kind.preservation'),
    disclosure: t('legal.kind.disclosure'),
    removal: t('legal.kind.removal'),
    other: t('legal.kind.other'),
  };
  return labels[k] || k;
}

export function kindHint(k) {
  const hints = {
    emergency: t('legal.kind_hint.emergency'),
    preservation: t('legal.kind_hint.preservation'),
    disclosure: t('legal.kind_hint.disclosure'),
    removal: t('legal.kind_hint.removal'),
    other: t('legal.kind_hint.other'),
  };
  return hints[k] || '';
}

export function processLabel(p) {
  const labels = {
    subpoena: t('legal.process.subpoena'),
    court_order: t('legal.process.court_order'),
    warrant: t('legal.process.warrant'),
    mlat: t('legal.process.mlat'),
    emergency: t('legal.process.emergency'),
    preservation: t('legal.process.preservation'),
    removal_order: t('legal.process.removal_order'),
    tco_removal_order: t('legal.process.tco_removal_order'),
    other: t('legal.process.other'),
  };
  return labels[p] || p;
}

export function stateLabel(s) {
  const labels = {
    received: t('legal.state.received'),
    in_review: t('legal.state.in_review'),
    needs_info: t('legal.state.needs_info'),
    approved: t('legal.state.approved'),
    fulfilled: t('legal.state.fulfilled'),
    rejected: t('legal.state.rejected'),
    withdrawn: t('legal.state.withdrawn'),
  };
  return labels[s] || s;
}

// stateTag is a request's state as a coloured tag.
export function stateTag(s) {
  return h('span', { class: `le-state ${s}` }, stateLabel(s));
}

export function categoryLabel(c) {
  const labels = {
    subscriber: t('legal.category.subscriber'),
    access: t('legal.category.access'),
    content: t('legal.category.content'),
  };
  return labels[c] || c;
}

export function categoryHint(c) {
  const hints = {
    subscriber: t('legal.category_hint.subscriber'),
    access: t('legal.category_hint.access'),
    content: t('legal.category_hint.content'),
  };
  return hints[c] || '';
}

export function categoryList(cs) {
  return cs && cs.length ? cs.map(categoryLabel).join(', ') : t('legal.none');
}

export function targetKindLabel(k) {
  const labels = {
    user: t('legal.target.user'),
    username: t('legal.target.username'),
    phone: t('legal.target.phone'),
    link: t('legal.target.link'),
  };
  return labels[k] || k;
}

export function targetPlaceholder(k) {
  const examples = { user: '42', username: '@name', phone: '+4915112345678', link: `${location.origin}/@channel/17` };
  return examples[k] || '';
}

// eventLabel names a step of a request's timeline.
export function eventLabel(kind) {
  const labels = {
    filed: t('legal.event.filed'),
    paged: t('legal.event.paged'),
    page_failed: t('legal.event.page_failed'),
    enforced: t('legal.event.enforced'),
    preserved: t('legal.event.preserved'),
    document: t('legal.event.document'),
    in_review: t('legal.state.in_review'),
    needs_info: t('legal.event.needs_info'),
    approved: t('legal.state.approved'),
    fulfilled: t('legal.state.fulfilled'),
    rejected: t('legal.state.rejected'),
    withdrawn: t('legal.state.withdrawn'),
    downloaded: t('legal.event.downloaded'),
    note: t('legal.event.note'),
    users_notified: t('legal.event.users_notified'),
    extended: t('legal.event.extended'),
    lifted: t('legal.event.lifted'),
  };
  return labels[kind] || kind;
}

export function actorLabel(actor) {
  const labels = { officer: t('legal.actor.officer'), legal: t('legal.actor.legal'), system: t('legal.actor.system') };
  return labels[actor] || actor;
}

function formatDate(iso) {
  return new Intl.DateTimeFormat(language(), { dateStyle: 'medium' }).format(new Date(iso));
}

// period is a request's date range in words.
export function period(q) {
  if (!q.date_from && !q.date_to) return t('legal.period_any');
  if (!q.date_to) return t('legal.period_from', { from: formatDate(q.date_from) });
  if (!q.date_from) return t('legal.period_to', { to: formatDate(q.date_to) });
  return t('legal.period_range', { from: formatDate(q.date_from), to: formatDate(q.date_to) });
}

// country is a country's name with its code.
export function country(code) {
  const name = countryName(code);
  return name === code ? code : `${name} (${code})`;
}

// requestFacts lists every field of request q, as filed and as decided.
export function requestFacts(q) {
  const row = (label, value, attrs = {}) => (value == null || value === '' ? null
    : [h('dt', {}, label), h('dd', attrs, value)]);
  const when = (iso) => (iso ? h('time', { datetime: iso }, formatDateTime(iso)) : null);
  const data = dataKinds.includes(q.kind) || (q.categories && q.categories.length);
  return h('dl', { class: 'facts le-facts' },
    row(t('legal.f.kind'), kindLabel(q.kind)),
    row(t('legal.f.process'), processLabel(q.process)),
    row(t('legal.f.case_reference'), q.case_reference, { dir: 'auto' }),
    row(t('legal.f.legal_basis'), q.legal_basis, { dir: 'auto', class: 'le-text' }),
    row(t('legal.f.issuing_authority'), q.issuing_authority, { dir: 'auto' }),
    row(t('legal.f.jurisdiction'), country(q.jurisdiction)),
    row(t('legal.f.period'), period(q)),
    data ? row(t('legal.f.categories'), categoryList(q.categories)) : null,
    q.state === 'approved' || q.state === 'fulfilled'
      ? row(t('legal.f.approved'), h('strong', { class: 'le-scope' }, categoryList(q.approved_categories))) : null,
    row(t('legal.f.description'), q.description, { dir: 'auto', class: 'le-text' }),
    row(t('legal.f.received'), when(q.received_at)),
    row(t('legal.f.deadline'), q.deadline ? when(q.deadline) : t('legal.none')),
    isOpen(q.state) ? row(t('legal.f.due'), when(q.due_at)) : null,
    row(t('legal.f.nondisclosure'), !q.nondisclosure ? t('legal.no')
      : q.nondisclosure_until ? t('legal.nondisclosure_until', { date: formatDate(q.nondisclosure_until) }) : t('legal.yes')),
    row(t('legal.f.paged'), when(q.paged_at)),
    row(t('legal.f.enforced'), when(q.enforced_at)),
    row(t('legal.f.preserved'), q.preserved_until ? when(q.preserved_until) : null),
    row(t('legal.f.decision'), q.decision, { dir: 'auto', class: 'le-text' }),
    row(t('legal.f.closed'), when(q.closed_at)));
}

// targetList lists a request's targets and what each names.
export function targetList(targets) {
  return h('ul', { class: 'le-targets' }, targets.map((x) => {
    let resolved = '';
    if (x.seq) resolved = t('legal.resolved_message', { chat: x.chat_id, seq: x.seq });
    else if (x.chat_id) resolved = t('legal.resolved_chat', { chat: x.chat_id });
    else if (x.user_id) resolved = t('legal.resolved_user', { user: x.user_id });
    return h('li', {},
      h('span', { class: 'le-target-kind' }, targetKindLabel(x.kind)),
      h('bdi', { dir: 'ltr', class: 'mono' }, x.value),
      resolved ? h('span', { class: 'muted' }, resolved) : null);
  }));
}

// timelineList is a request's timeline, oldest first; internal steps (the
// legal team's notes) are marked.
export function timelineList(events) {
  return h('ol', { class: 'le-timeline' }, events.map((e) => h('li', { class: e.internal ? 'internal' : null, dataset: { kind: e.kind } },
    h('div', { class: 'le-ev-head' },
      h('time', { datetime: e.at }, formatDateTime(e.at)),
      h('strong', {}, eventLabel(e.kind)),
      h('span', { class: 'muted' }, actorLabel(e.actor)),
      e.internal ? h('span', { class: 'le-internal' }, t('legal.internal')) : null),
    e.note ? h('p', { class: 'le-text', dir: 'auto' }, e.note) : null)));
}

// documentList lists a request's documents by name and size; download, if
// given, makes each name a button that downloads it.
export function documentList(docs, download) {
  if (!docs.length) return h('p', { class: 'muted le-no-docs' }, t('legal.no_documents'));
  return h('ul', { class: 'le-docs' }, docs.map((d) => h('li', {},
    download ? h('button', { type: 'button', class: 'btn small le-doc', 'aria-label': t('legal.download_doc', { name: d.name }), title: t('legal.download_doc', { name: d.name }), onclick: () => download(d) }, h('bdi', { dir: 'auto' }, d.name))
      : h('bdi', { dir: 'auto', class: 'le-doc' }, d.name),
    h('span', { class: 'muted' }, formatSize(d.size)))));
}

// Styles of the portal and the legal console, loaded the first time either
// is opened.
let styles = null;

export function loadLegalStyles() {
  if (!styles) {
    styles = new Promise((resolve) => {
      const link = h('link', { rel: 'stylesheet', href: new URL('legal.css', import.meta.url).href });
      link.addEventListener('load', resolve);
      link.addEventListener('error', resolve); // unstyled is better than nothing
      document.head.append(link);
    });
  }
  return styles;
}
