// The moderation console, for staff (triage, moderators, admins): the queue
// of cases in priority order, a case with its context and history, the
// appeals waiting for a second person, bulk actions on every posting of a
// file (moderators and admins), the trusted flaggers (admins) and the
// jurisdictions (changed by admins, read by all staff); and, for the legal
// team (role legal) and admins, law-enforcement requests and agencies
// (console-legal.js) under a banner of open emergencies. It is a
// screen of the app at /console, full width; the server decides who may do what, and the console
// offers only what the reviewer's role allows. Single keys work as
// shortcuts except while typing; "?" lists them.
import { api, errorText } from './api.js';
import { t, language } from './i18n.js';
import { h, replace, openDialog, iconButton, formatDateTime } from './dom.js';
import { store } from './store.js';
import { navigate } from './nav.js';
import {
  isStaff, can, loadCategories, categoryLabel, sources, sourceLabel, stateLabel, person, chatTitle, subjectText,
  relativeTime, priorityLevel, loadPeople, forgetAccounts,
} from './console-labels.js';
import { caseView } from './console-case.js';
import { appealsView } from './console-appeals.js';
import { bulkView } from './console-bulk.js';
import { flaggersView } from './console-flaggers.js';
import { jurisdictionsView } from './console-jurisdictions.js';
import { isLegalTeam, emergencyBanner, legalQueueView, legalRequestView, agenciesView } from './console-legal.js';

// queuePath is the queue with the filters last used, where a case view
// goes back to.
let queuePath = '/console';

const refreshEvery = 10000;

// The console's own styles are loaded the first time it is opened, so that
// people who never open it never download them.
let styles = null;

function loadStyles() {
  if (!styles) {
    styles = new Promise((resolve) => {
      const link = h('link', { rel: 'stylesheet', href: new URL('console.css', import.meta.url).href });
      link.addEventListener('load', resolve);
      link.addEventListener('error', resolve); // unstyled is better than nothing
      document.head.append(link);
    });
  }
  return styles;
}

// consoleScreen is the console at path: /console (the queue),
// /console/cases/{id}, /console/appeals, /console/bulk, /console/flaggers,
// /console/jurisdictions, /console/legal, /console/legal/{id} or
// /console/agencies. It returns {el, focus, leave}.
export function consoleScreen(path) {
  const main = h('main', { id: 'main', class: 'console-main', tabindex: '-1' }, h('p', { class: 'loading' }, t('console.loading')));
  const roleTag = h('span', { class: 'console-role' });
  const screens = ['/console/appeals', '/console/bulk', '/console/flaggers', '/console/jurisdictions', '/console/legal', '/console/agencies'];
  const current = (prefix) => (prefix ? path.startsWith(prefix) : !screens.some((p) => path.startsWith(p))) ? 'page' : null;
  // Bulk actions and flaggers are linked once the role is known.
  const bulkLink = h('a', { href: '/console/bulk', 'aria-current': current('/console/bulk'), hidden: true }, t('console.bulk'));
  const flaggersLink = h('a', { href: '/console/flaggers', 'aria-current': current('/console/flaggers'), hidden: true }, t('console.flaggers'));
  const jurisdictionsLink = h('a', { href: '/console/jurisdictions', 'aria-current': current('/console/jurisdictions'), hidden: true }, t('console.jurisdictions'));
  // The queue and appeals are moderation's; the legal team's pages are its own.
  const queueLink = h('a', { href: queuePath, 'aria-current': current('') }, t('console.queue'));
  const appealsLink = h('a', { href: '/console/appeals', 'aria-current': current('/console/appeals') }, t('console.appeals'));
  const legalLink = h('a', { href: '/console/legal', 'aria-current': current('/console/legal'), hidden: true }, t('legal.console_nav'));
  const agenciesLink = h('a', { href: '/console/agencies', 'aria-current': current('/console/agencies'), hidden: true }, t('legal.agencies'));
  const nav = h('nav', { class: 'console-nav', 'aria-label': t('console.nav') },
    queueLink, appealsLink, bulkLink, flaggersLink, jurisdictionsLink, legalLink, agenciesLink);
  let banner = null; // the emergencies, for the legal team
  const el = h('div', { class: 'console', hidden: true },
    h('header', { class: 'console-head' },
      h('p', { class: 'console-brand' }, t('console.title')),
      nav,
      h('div', { class: 'console-tools' },
        roleTag,
        h('button', { type: 'button', class: 'btn small keys-btn', 'aria-keyshortcuts': '?', onclick: () => showShortcuts() },
          h('span', { 'aria-hidden': 'true' }, '?'), h('span', { class: 'keys-label' }, t('console.shortcuts'))),
        h('a', { href: '/', class: 'btn small' }, t('console.to_chats')))),
    h('div', { class: 'console-alarm' }),
    main);
  let view = null;
  let closed = false;
  document.title = t('app.title_chat', { title: t('console.title') });

  function onKey(e) {
    if (closed || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (document.querySelector('dialog[open]')) return; // the dialog has the keyboard
    const target = e.target;
    if (target instanceof Element && target.closest('input, textarea, select, [contenteditable]:not([contenteditable="false"])')) return;
    if (e.key === '?') {
      e.preventDefault();
      showShortcuts();
      return;
    }
    const fn = view && view.keys && view.keys[e.key];
    if (fn && fn(e) !== false) e.preventDefault();
  }
  document.addEventListener('keydown', onKey);

  (async () => {
    await loadStyles();
    if (closed) return;
    el.hidden = false;
    try {
      // The role may have changed since the app started.
      const me = await api('GET', '/me');
      if (closed) return;
      Object.assign(store.me, me);
    } catch (err) {
      if (closed) return;
      replace(main, problem(t('console.unavailable'), errorText(err)));
      return;
    }
    roleTag.textContent = isStaff(store.me.role) || isLegalTeam(store.me.role) ? roleLabel(store.me.role) : '';
    bulkLink.hidden = !can(store.me.role, 'act');
    flaggersLink.hidden = !can(store.me.role, 'admin');
    jurisdictionsLink.hidden = !can(store.me.role, 'view') && !isLegalTeam(store.me.role);
    const legal = isLegalTeam(store.me.role);
    legalLink.hidden = !legal;
    agenciesLink.hidden = !legal;
    queueLink.hidden = !isStaff(store.me.role) && legal;
    appealsLink.hidden = queueLink.hidden;
    if (legal) {
      banner = emergencyBanner();
      replace(el.querySelector('.console-alarm'), banner.el);
    }
    let m;
    if (legal && !isStaff(store.me.role) && /^\/console\/?$/.test(path)) {
      // The legal team's console opens on its own queue.
      history.replaceState(null, '', '/console/legal');
      path = '/console/legal';
      legalLink.setAttribute('aria-current', 'page');
    }
    if ((m = path.match(/^\/console\/cases\/(\d+)\/?$/))) {
      view = caseView(Number(m[1]), { queuePath, notStaff });
    } else if (/^\/console\/appeals\/?$/.test(path)) {
      view = appealsView({ notStaff });
    } else if (/^\/console\/bulk\/?$/.test(path)) {
      view = bulkView({ notStaff });
    } else if (/^\/console\/flaggers\/?$/.test(path)) {
      view = flaggersView({ notStaff });
    } else if (/^\/console\/jurisdictions\/?$/.test(path)) {
      view = jurisdictionsView({ notStaff });
    } else if (/^\/console\/legal\/?$/.test(path)) {
      view = legalQueueView({ notStaff });
    } else if ((m = path.match(/^\/console\/legal\/(\d+)\/?$/))) {
      view = legalRequestView(Number(m[1]), { notStaff, changed: () => banner && banner.refresh() });
    } else if (/^\/console\/agencies\/?$/.test(path)) {
      view = agenciesView({ notStaff });
    } else if (/^\/console\/?$/.test(path)) {
      view = queueView({ notStaff });
    } else {
      replace(main, problem(t('console.not_found'), t('console.not_found_text')));
      return;
    }
    replace(main, view.el);
    const first = main.querySelector('h1, h2');
    if (first) { first.tabIndex = -1; first.focus(); }
  })();

  // notStaff replaces the view with what a person who is not staff is told
  // when the server refuses them.
  function notStaff(err) {
    if (view && view.leave) view.leave();
    view = null;
    nav.hidden = true;
    if (err && err.reason === 'second_factor_required') {
      // Staff, but without an authenticator app yet: say so, and where to
      // set one up, rather than that they are not staff.
      replace(main, problem(t('console.need_2fa'), t('console.need_2fa_text'), null,
        h('a', { href: '/settings', class: 'btn primary' }, t('console.to_settings'))));
    } else {
      replace(main, problem(t('console.not_staff'), t('console.not_staff_text'), errorText(err)));
    }
    main.querySelector('h2').focus();
  }

  return {
    el,
    focus: () => {},
    leave: () => {
      closed = true;
      document.removeEventListener('keydown', onKey);
      if (view && view.leave) view.leave();
      if (banner) banner.stop();
      // A standing looked up now may have changed by the next visit.
      forgetAccounts();
      document.title = t('app.title');
    },
  };
}

function roleLabel(role) {
  const labels = { triage: t('console.role.triage'), moderator: t('console.role.moderator'), legal: t('console.role.legal'), admin: t('console.role.admin') };
  return labels[role] || role;
}

function priorityText(level) {
  if (level === 'high') return t('console.priority_high');
  if (level === 'medium') return t('console.priority_medium');
  return t('console.priority_low');
}

function problem(title, text, detail, action) {
  return h('section', { class: 'placeholder console-problem', 'aria-labelledby': 'console-problem-title' },
    h('h2', { id: 'console-problem-title', tabindex: '-1' }, title),
    h('p', {}, text),
    detail ? h('p', { class: 'muted', role: 'alert' }, detail) : null,
    action || null,
    h('a', { href: '/', class: 'btn' }, t('console.to_chats')));
}

// showShortcuts lists the keyboard shortcuts.
function showShortcuts() {
  if (document.querySelector('dialog.shortcuts')) return;
  const row = (keys, what) => [h('dt', {}, ...keys.map((k) => h('kbd', {}, k))), h('dd', {}, what)];
  openDialog(t('console.shortcuts'), () => h('div', { class: 'modal-body' },
    h('h3', {}, t('console.queue')),
    h('dl', { class: 'keys' },
      row(['j'], t('console.key.next')),
      row(['k'], t('console.key.previous')),
      row(['Enter'], t('console.key.open'))),
    h('h3', {}, t('console.case')),
    h('dl', { class: 'keys' },
      row(['r'], t('console.act.remove_message')),
      row(['t'], t('console.act.takedown')),
      row(['l'], t('console.act.label')),
      row(['s'], t('console.act.suspend')),
      row(['b'], t('console.act.ban')),
      row(['d'], t('console.act.dismiss')),
      row(['e'], t('console.act.escalate')),
      row(['Esc'], t('console.key.back'))),
    h('dl', { class: 'keys' },
      row(['?'], t('console.key.help'))),
    h('p', { class: 'hint' }, t('console.key.typing'))), { className: 'shortcuts', focusField: false });
}

// The queue -------------------------------------------------------------------

function queueView({ notStaff }) {
  const params = new URLSearchParams(location.search);
  const select = (name, label, options) => {
    const id = `q-${name}`;
    const s = h('select', { id, name }, options.map(([v, text]) => h('option', { value: v }, text)));
    s.value = params.get(name) || '';
    return h('div', { class: 'field' }, h('label', { for: id }, label), s);
  };
  function text(name, label, placeholder, maxlength) {
    const id = `q-${name}`;
    const input = h('input', { id, name, type: 'text', placeholder, maxlength: String(maxlength), size: '4', dir: 'ltr', autocomplete: 'off', spellcheck: 'false' });
    input.value = params.get(name) || '';
    return h('div', { class: 'field' }, h('label', { for: id }, label), input);
  }
  const categorySelect = select('category', t('console.category'), [['', t('console.all_categories')]]);
  const mine = h('input', { type: 'checkbox', name: 'mine', id: 'q-mine', checked: params.get('mine') === '1' });
  const form = h('form', { class: 'console-filters', role: 'search', 'aria-label': t('console.filters') },
    select('state', t('console.state'), [['', t('console.state.unresolved')], ['open', t('console.state.open')],
      ['escalated', t('console.state.escalated')], ['resolved', t('console.state.resolved')]]),
    categorySelect,
    select('source', t('console.source'), [['', t('console.all_sources')], ...sources.map((s) => [s, sourceLabel(s)])]),
    // Who signalled a case first: their language and country, for reviewers who read it.
    text('lang', t('console.lang'), 'de', 8), text('country', t('console.country'), 'DE', 2),
    h('div', { class: 'check' }, mine, h('label', { for: 'q-mine' }, t('console.mine'))));
  const status = h('p', { class: 'muted console-status', role: 'status' });
  const updated = h('p', { class: 'muted console-updated' });
  const body = h('tbody');
  const cols = [
    t('console.col.priority'), t('console.category'), t('console.col.subject'), t('console.col.reach'), t('console.col.signals'),
    t('console.col.sources'), t('console.col.due'), t('console.state'), t('console.col.assignee'),
  ];
  const table = h('table', { class: 'queue' },
    h('caption', { class: 'sr' }, t('console.queue_caption')),
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c)))),
    body);
  const el = h('section', { class: 'console-queue', 'aria-labelledby': 'queue-title' },
    h('div', { class: 'console-bar' }, h('h2', { id: 'queue-title' }, t('console.queue')), updated),
    form, status, h('div', { class: 'table-wrap' }, table));

  let cases = [];
  let selected = 0; // the ID of the selected case
  let timer = 0;
  let closed = false;
  let loading = null;

  loadCategories().then((list) => {
    const s = categorySelect.querySelector('select');
    s.append(...list.map((c) => h('option', { value: c.id }, c.label)));
    s.value = params.get('category') || '';
    render();
  }, () => {});

  form.addEventListener('change', () => {
    const q = new URLSearchParams();
    for (const name of ['state', 'category', 'source', 'lang', 'country']) {
      const v = form.elements[name].value;
      if (v) q.set(name, v);
    }
    if (mine.checked) q.set('mine', '1');
    const s = q.toString();
    queuePath = `/console${s ? `?${s}` : ''}`;
    history.replaceState(null, '', queuePath);
    document.querySelector('.console-nav a').setAttribute('href', queuePath);
    load();
  });
  form.addEventListener('submit', (e) => e.preventDefault());
  queuePath = location.pathname + location.search;

  async function load() {
    const q = new URLSearchParams({ limit: '100' });
    for (const name of ['state', 'category', 'source', 'lang', 'country']) {
      const v = form.elements[name].value;
      if (v) q.set(name, v);
    }
    if (mine.checked) q.set('assignee', String(store.me.id));
    const key = q.toString();
    loading = key;
    try {
      const r = await api('GET', `/moderation/cases?${key}`);
      if (closed || loading !== key) return;
      // Name the assignees and the accounts reported before showing them.
      await loadPeople(r.cases.flatMap((c) => [c.assignee_id, c.subject.user_id]));
      if (closed || loading !== key) return;
      cases = r.cases;
      status.textContent = cases.length ? '' : t('console.queue_empty');
      status.hidden = !!cases.length;
      updated.textContent = t('console.updated', { time: new Intl.DateTimeFormat(language(), { timeStyle: 'medium' }).format(new Date()) });
      render();
    } catch (err) {
      if (closed) return;
      if (err.status === 403) {
        stop();
        notStaff(err);
        return;
      }
      status.hidden = false;
      status.textContent = errorText(err);
    }
  }

  function render() {
    const focusedRow = document.activeElement && document.activeElement.closest && document.activeElement.closest('tr.case-row');
    const refocus = focusedRow && body.contains(focusedRow) ? Number(focusedRow.dataset.id) : 0;
    const now = Date.now();
    replace(body, ...cases.map((c) => row(c, now)));
    if (refocus) {
      const again = body.querySelector(`tr.case-row[data-id="${refocus}"] a`);
      if (again) again.focus({ preventScroll: true });
    }
  }

  function row(c, now) {
    const link = h('a', { href: `/console/cases/${c.id}`, class: 'case-link', dir: 'auto' }, subjectText(c.subject, ''));
    if (c.subject.chat_id) {
      chatTitle(c.subject.chat_id).then((title) => {
        if (title) link.textContent = subjectText(c.subject, title);
      });
    }
    const level = priorityLevel(c.priority);
    const due = h('time', { datetime: c.due_at, title: formatDateTime(c.due_at) }, relativeTime(c.due_at, now));
    const sel = c.id === selected;
    const tr = h('tr', {
      class: `case-row${sel ? ' selected' : ''}${c.overdue ? ' overdue' : ''}`, dataset: { id: String(c.id) },
      onclick: (e) => { if (!e.target.closest('a, button')) navigate(`/console/cases/${c.id}`); },
    },
    h('td', { class: 'priority', 'data-label': t('console.col.priority') },
      h('span', { class: `prio ${level}`, title: priorityText(level) }, String(c.priority))),
    h('td', { 'data-label': t('console.category') }, categoryLabel(c.category)),
    h('td', { class: 'subject', 'data-label': t('console.col.subject') }, link),
    h('td', { class: 'num', 'data-label': t('console.col.reach') }, new Intl.NumberFormat(language()).format(c.reach)),
    h('td', { class: 'num', 'data-label': t('console.col.signals') }, String(c.signal_count)),
    h('td', { 'data-label': t('console.col.sources') }, c.sources.map(sourceLabel).join(', ')),
    h('td', { class: 'due', 'data-label': t('console.col.due') }, c.state === 'resolved' ? h('span', { class: 'muted' }, '—') : due,
      c.overdue ? h('span', { class: 'overdue-tag' }, t('console.overdue')) : null),
    h('td', { 'data-label': t('console.state') }, c.outcome ? `${stateLabel(c.state)} (${c.outcome === 'merged' ? t('console.outcome.merged') : stateLabel(c.outcome)})` : stateLabel(c.state)),
    h('td', { 'data-label': t('console.col.assignee') }, c.assignee_id ? person(c.assignee_id) : h('span', { class: 'muted' }, t('console.unassigned'))));
    return tr;
  }

  // move selects the case step rows down (or up) and focuses its link.
  function move(step) {
    if (!cases.length) return;
    let i = cases.findIndex((c) => c.id === selected);
    i = i < 0 ? (step > 0 ? 0 : cases.length - 1) : Math.max(0, Math.min(cases.length - 1, i + step));
    selected = cases[i].id;
    for (const tr of body.querySelectorAll('tr.case-row')) tr.classList.toggle('selected', Number(tr.dataset.id) === selected);
    const link = body.querySelector(`tr.case-row[data-id="${selected}"] a`);
    link.focus();
    link.scrollIntoView({ block: 'nearest' });
  }

  function stop() {
    closed = true;
    clearInterval(timer);
  }

  load();
  timer = setInterval(() => { if (!document.hidden) load(); }, refreshEvery);
  return {
    el,
    keys: {
      j: () => move(1),
      k: () => move(-1),
      Enter: (e) => {
        // On a link or button Enter already does what it says.
        if (e.target instanceof Element && e.target.closest('a, button')) return false;
        if (!selected) return false;
        navigate(`/console/cases/${selected}`);
        return true;
      },
    },
    leave: stop,
  };
}
