// The legal console, for the legal team (role legal) and admins, inside the
// moderation console: the banner of open emergency requests on every page,
// the queue of law-enforcement requests (emergencies first, with their due
// clocks), a request with everything the officer filed, its documents and
// its whole timeline (internal notes included) and the decisions on it,
// and the agencies whose officers may use the portal. The server decides
// who may do what; the console offers what the request's state allows.
import { api, blobURL, errorText, ApiError } from './api.js';
import { t, language } from './i18n.js';
import { h, replace, field, openDialog, showError, toast, formatDateTime, confirmDialog } from './dom.js';
import { relativeTime } from './console-labels.js';
import { navigate } from './nav.js';
import { isLegalTeam } from './roles.js';
import { countryOptions } from './jurisdiction.js';
import {
  states, stateLabel, stateTag, kindLabel, categoryLabel, categoryHint, categoryList, contentProcesses, dataKinds, isOpen, country,
  requestFacts, targetList, timelineList, documentList, loadLegalStyles,
} from './legal-labels.js';

const refreshEvery = 10000;

export { isLegalTeam };

// agencyNames are the agencies' names by ID, fetched once per console visit.
let agencyNames = null;

function loadAgencies(fresh = false) {
  if (!agencyNames || fresh) {
    agencyNames = api('GET', '/legal-team/agencies').then((r) => r.agencies);
    agencyNames.catch(() => { agencyNames = null; });
  }
  return agencyNames;
}

function dueClock(q, now = Date.now()) {
  const late = isOpen(q.state) && new Date(q.due_at).getTime() < now;
  return h('span', { class: late ? 'due overdue' : 'due' },
    h('time', { datetime: q.due_at, title: formatDateTime(q.due_at) }, relativeTime(q.due_at, now)),
    late ? h('span', { class: 'overdue-tag' }, t('console.overdue')) : null);
}

// emergencyBanner is the red banner of the open emergency requests, shown
// on every page of the console while there are any: {el, refresh, stop}.
export function emergencyBanner() {
  const el = h('section', { class: 'le-alarm', 'aria-labelledby': 'le-alarm-title', hidden: true });
  let shown = '';
  let closed = false;
  async function refresh() {
    let list;
    try {
      list = (await api('GET', '/legal-team/emergencies')).requests;
    } catch {
      return; // the banner stays as it was; the queue says what is wrong
    }
    if (closed) return;
    const json = JSON.stringify(list.map((q) => [q.id, q.number, q.due_at, q.state]));
    if (json === shown) {
      for (const c of el.querySelectorAll('[data-due]')) c.textContent = relativeTime(c.dataset.due);
      return;
    }
    shown = json;
    el.hidden = !list.length;
    replace(el, list.length ? [
      h('h2', { id: 'le-alarm-title', role: 'alert' }, t('legal.alarm', { count: list.length })),
      h('ul', {}, list.map((q) => h('li', {},
        h('a', { href: `/console/legal/${q.id}` }, q.number), ' ',
        h('span', {}, t('legal.alarm_due', { time: formatDateTime(q.due_at) })), ' ',
        h('span', { class: 'le-clock', 'aria-hidden': 'true', dataset: { due: q.due_at } }, relativeTime(q.due_at))))),
    ] : []);
  }
  refresh();
  const timer = setInterval(() => { if (!document.hidden) refresh(); }, refreshEvery);
  return {
    el,
    refresh,
    stop: () => {
      closed = true;
      clearInterval(timer);
    },
  };
}

function bar(titleId, title, ...rest) {
  return h('div', { class: 'console-bar' }, h('h2', { id: titleId }, title), ...rest);
}

// legalQueueView is the queue of requests at /console/legal.
export function legalQueueView({ notStaff }) {
  const params = new URLSearchParams(location.search);
  const stateSel = h('select', { id: 'le-q-state', name: 'state' },
    h('option', { value: '' }, t('legal.q_open')),
    states.map((s) => h('option', { value: s }, stateLabel(s))));
  stateSel.value = params.get('state') || '';
  const form = h('form', { class: 'console-filters', role: 'search', 'aria-label': t('console.filters') },
    h('div', { class: 'field' }, h('label', { for: 'le-q-state' }, t('legal.f.state')), stateSel));
  const status = h('p', { class: 'muted console-status', role: 'status' });
  const updated = h('p', { class: 'muted console-updated' });
  const body = h('tbody');
  const cols = [t('legal.col.number'), t('legal.f.kind'), t('legal.col.agency'), t('legal.f.case_reference'), t('legal.f.targets'),
    t('legal.f.state'), t('legal.col.due'), t('legal.f.received')];
  const wrap = h('div', { class: 'table-wrap' }, h('table', { class: 'queue le-queue' },
    h('caption', { class: 'sr' }, t('legal.queue_caption')),
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c)))),
    body));
  const el = h('section', { class: 'console-legal', 'aria-labelledby': 'le-queue-title' },
    bar('le-queue-title', t('legal.console_title'), updated),
    form, status, wrap);
  let closed = false;
  let timer = 0;
  let names = new Map();

  form.addEventListener('change', () => {
    const s = stateSel.value;
    history.replaceState(null, '', s ? `/console/legal?state=${s}` : '/console/legal');
    load();
  });
  form.addEventListener('submit', (e) => e.preventDefault());

  async function load() {
    const s = stateSel.value;
    try {
      const [r, agencies] = await Promise.all([
        api('GET', `/legal-team/requests${s ? `?state=${encodeURIComponent(s)}` : ''}`),
        loadAgencies().catch(() => []),
      ]);
      if (closed || stateSel.value !== s) return;
      names = new Map(agencies.map((a) => [a.id, a.name]));
      const now = Date.now();
      // Open emergencies first, then by when they are due.
      const list = [...r.requests].sort((a, b) => {
        const ea = a.kind === 'emergency' && isOpen(a.state);
        const eb = b.kind === 'emergency' && isOpen(b.state);
        if (ea !== eb) return ea ? -1 : 1;
        return new Date(a.due_at) - new Date(b.due_at);
      });
      status.hidden = !!list.length;
      status.textContent = list.length ? '' : t('legal.queue_empty');
      wrap.hidden = !list.length;
      replace(body, list.map((q) => row(q, now)));
      updated.textContent = t('console.updated', { time: new Intl.DateTimeFormat(language(), { timeStyle: 'medium' }).format(new Date()) });
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

  function row(q, now) {
    const emergency = q.kind === 'emergency';
    return h('tr', {
      class: `case-row le-row${emergency && isOpen(q.state) ? ' emergency' : ''}`, dataset: { id: String(q.id) },
      onclick: (e) => { if (!e.target.closest('a, button')) navigate(`/console/legal/${q.id}`); },
    },
    h('td', { 'data-label': t('legal.col.number') }, h('a', { href: `/console/legal/${q.id}`, class: 'case-link' }, q.number)),
    h('td', { 'data-label': t('legal.f.kind') }, emergency ? h('span', { class: 'le-kind-tag emergency' }, kindLabel(q.kind)) : kindLabel(q.kind)),
    h('td', { 'data-label': t('legal.col.agency'), dir: 'auto' }, names.get(q.agency_id) || t('legal.agency_n', { id: q.agency_id })),
    h('td', { 'data-label': t('legal.f.case_reference'), dir: 'auto' }, q.case_reference),
    h('td', { class: 'num', 'data-label': t('legal.f.targets') }, String(q.targets.length)),
    h('td', { 'data-label': t('legal.f.state') }, stateTag(q.state)),
    h('td', { 'data-label': t('legal.col.due') }, isOpen(q.state) ? dueClock(q, now) : h('span', { class: 'muted' }, '—')),
    h('td', { 'data-label': t('legal.f.received') }, h('time', { datetime: q.received_at }, formatDateTime(q.received_at))));
  }

  function stop() {
    closed = true;
    clearInterval(timer);
  }

  loadLegalStyles();
  load();
  timer = setInterval(() => { if (!document.hidden) load(); }, refreshEvery);
  return { el, keys: {}, leave: stop };
}

// legalRequestView is request id at /console/legal/{id}; changed is told
// when a decision may have changed the emergencies.
export function legalRequestView(id, { notStaff, changed }) {
  const title = h('h2', { id: 'le-review-title' }, t('legal.request_n', { id }));
  const tags = h('span', { class: 'le-tags' });
  const body = h('div', { class: 'case-body' }, h('p', { class: 'loading' }, t('console.loading')));
  const el = h('section', { class: 'console-case console-legal', 'aria-labelledby': 'le-review-title' },
    h('div', { class: 'console-bar' },
      h('a', { href: '/console/legal', class: 'btn small', 'aria-keyshortcuts': 'Escape' }, t('console.back')),
      title, tags),
    body);
  let d = null;
  let agency = null;
  let shown = '';
  let closed = false;
  let timer = 0;

  async function load() {
    try {
      const [r, agencies] = await Promise.all([api('GET', `/legal-team/requests/${id}`), loadAgencies().catch(() => [])]);
      if (closed) return;
      const json = JSON.stringify(r);
      const active = document.activeElement;
      if (json === shown || document.querySelector('dialog[open]') || (d && active && body.contains(active) && active.closest('form'))) return;
      d = r;
      agency = agencies.find((a) => a.id === r.request.agency_id) || null;
      shown = json;
      render();
    } catch (err) {
      if (closed) return;
      if (err.status === 403) {
        stop();
        notStaff(err);
        return;
      }
      if (!d) replace(body, h('p', { class: 'form-error', role: 'alert' }, errorText(err)));
    }
  }

  function section(idAttr, heading, ...content) {
    return h('section', { class: 'case-section', 'aria-labelledby': idAttr }, h('h3', { id: idAttr }, heading), ...content);
  }

  function render() {
    const q = d.request;
    title.textContent = q.number;
    replace(tags, stateTag(q.state), q.kind === 'emergency' ? h('span', { class: 'le-kind-tag emergency' }, kindLabel(q.kind)) : null);
    replace(body, h('div', { class: 'case-grid' },
      h('div', { class: 'case-main' },
        section('le-r-facts', t('legal.details'), requestFacts(q)),
        section('le-r-targets', t('legal.f.targets'), targetList(q.targets)),
        section('le-r-docs', t('legal.documents'), h('p', { class: 'hint' }, t('legal.documents_team_hint')), documentList(d.documents, download)),
        section('le-r-timeline', t('legal.timeline'), timelineList(d.timeline))),
      h('div', { class: 'case-side' },
        section('le-r-decide', t('legal.decide'), decisions(q)),
        section('le-r-agency', t('legal.agency'), agency ? h('dl', { class: 'facts' },
          h('dt', {}, t('legal.agency_name')), h('dd', { dir: 'auto' }, agency.name),
          h('dt', {}, t('legal.agency_country')), h('dd', {}, country(agency.country)),
          agency.jurisdiction ? [h('dt', {}, t('legal.agency_jurisdiction')), h('dd', { dir: 'auto' }, agency.jurisdiction)] : null,
          h('dt', {}, t('legal.agency_domains')), h('dd', { dir: 'ltr' }, agency.domains.join(', '))) : h('p', {}, t('legal.agency_n', { id: q.agency_id }))),
        section('le-r-note', t('legal.note_title'), noteForm(q)))));
  }

  async function download(doc) {
    try {
      const u = await blobURL(`/legal-team/documents/${doc.id}`);
      const a = h('a', { href: u, download: doc.name });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (err) {
      toast(errorText(err), { error: true });
    }
  }

  // step posts a decision and shows the request as it is now.
  async function step(path, body, done) {
    await api('POST', `/legal-team/requests/${id}/${path}`, body);
    toast(done);
    shown = '';
    await load();
    if (changed) changed();
  }

  function decisions(q) {
    const s = q.state;
    const buttons = [];
    const button = (act, label, fn, cls = 'btn') => buttons.push(h('button', { type: 'button', class: `${cls} le-act`, dataset: { act }, onclick: fn }, label));
    if (s === 'received') {
      button('review', t('legal.act.review'), async (e) => {
        e.target.disabled = true;
        try {
          await step('review', undefined, t('legal.done.review', { number: q.number }));
        } catch (err) {
          toast(errorText(err), { error: true });
          e.target.disabled = false;
        }
      });
    }
    if (s === 'received' || s === 'in_review') {
      button('approve', t('legal.act.approve'), () => approveDialog(q), 'btn primary');
      button('info', t('legal.act.info'), () => infoDialog(q));
    }
    if (s === 'received' || s === 'in_review' || s === 'needs_info') button('reject', t('legal.act.reject'), () => rejectDialog(q), 'btn danger');
    if (s === 'approved') button('fulfil', t('legal.act.fulfil'), () => fulfil(q), 'btn primary');
    const note = {
      received: t('legal.decide.received'),
      in_review: t('legal.decide.in_review'),
      needs_info: t('legal.decide.needs_info'),
      approved: t('legal.decide.approved'),
    }[s] || t('legal.decide.closed', { state: stateLabel(s) });
    return [h('p', { class: 'hint' }, note), buttons.length ? h('div', { class: 'case-buttons' }, buttons) : null];
  }

  // dialogForm opens a dialog with a form of fields; submit(form) makes
  // the decision, and its error is shown in the form.
  function dialogForm(titleText, fields, submitLabel, submit, { danger = false } = {}) {
    openDialog(titleText, (close) => {
      const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
      const ok = h('button', { type: 'submit', class: danger ? 'btn danger' : 'btn primary' }, submitLabel);
      const form = h('form', { class: 'modal-body stack le-decide', novalidate: true }, ...fields, box,
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', onclick: close }, t('common.cancel')), ok));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        ok.disabled = true;
        try {
          await submit(form);
          close();
        } catch (err) {
          showError(form, box, err, err instanceof ApiError && !err.status ? err.detail : errorText(err));
        } finally {
          ok.disabled = false;
        }
      });
      return form;
    }, { className: 'wide' });
  }

  function approveDialog(q) {
    const fields = [];
    const data = dataKinds.includes(q.kind);
    if (data) {
      const allowed = contentProcesses.includes(q.process);
      fields.push(h('fieldset', { class: 'le-group', name: 'categories', id: 'f-approve-categories', tabindex: '-1' },
        h('legend', {}, t('legal.approve_categories')),
        h('p', { class: 'hint' }, t('legal.approve_hint')),
        q.categories.map((c) => {
          const off = c === 'content' && !allowed;
          const cid = `f-approve-${c}`;
          return h('div', { class: 'check-row le-check' },
            h('input', { type: 'checkbox', id: cid, name: 'category', value: c, disabled: off, checked: !off, 'aria-describedby': `${cid}-hint` }),
            h('div', {},
              h('label', { for: cid }, categoryLabel(c)),
              h('p', { class: 'hint', id: `${cid}-hint` }, off ? t('legal.content_disabled', { process: q.process }) : categoryHint(c))));
        }),
        h('p', { class: 'field-error', id: 'f-approve-categories-err', hidden: true })));
    }
    fields.push(field(t('legal.approve_reason'), { tag: 'textarea', name: 'reason', rows: '3', maxlength: '5000', dir: 'auto', hint: t('legal.approve_reason_hint') }));
    dialogForm(t('legal.approve_title', { number: q.number }), fields, t('legal.act.approve'), async (form) => {
      const categories = [...form.querySelectorAll('input[name="category"]:checked')].map((c) => c.value);
      if (data && !categories.length) throw new ApiError({ field: 'categories', detail: t('legal.approve_none') });
      await step('approval', { categories: data ? categories : [], reason: form.elements.reason.value.trim() || undefined },
        t('legal.done.approved', { number: q.number, categories: categoryList(categories) }));
    });
  }

  function infoDialog(q) {
    dialogForm(t('legal.info_title', { number: q.number }),
      [field(t('legal.info_question'), { tag: 'textarea', name: 'question', rows: '4', maxlength: '5000', required: true, dir: 'auto', hint: t('legal.info_hint') })],
      t('legal.act.info'), async (form) => {
        const question = form.elements.question.value.trim();
        if (!question) throw new ApiError({ field: 'question', detail: t('auth.fill_in') });
        await step('info', { question }, t('legal.done.info', { number: q.number }));
      });
  }

  function rejectDialog(q) {
    const templates = [t('legal.reject_t.process'), t('legal.reject_t.authority'), t('legal.reject_t.scope'), t('legal.reject_t.targets')];
    const pick = h('select', { id: 'f-reject-template', name: 'template' },
      h('option', { value: '' }, t('legal.reject_template_none')),
      templates.map((x, i) => h('option', { value: String(i) }, x)));
    const reason = field(t('legal.reject_reason'), { tag: 'textarea', name: 'reason', rows: '4', maxlength: '5000', required: true, dir: 'auto', hint: t('legal.reject_hint') });
    pick.addEventListener('change', () => {
      if (pick.value === '') return;
      const area = reason.querySelector('textarea');
      area.value = area.value.trim() ? `${area.value.trim()}\n${templates[Number(pick.value)]}` : templates[Number(pick.value)];
      area.focus();
    });
    dialogForm(t('legal.reject_title', { number: q.number }),
      [h('div', { class: 'field' }, h('label', { for: 'f-reject-template' }, t('legal.reject_template')), pick), reason],
      t('legal.act.reject'), async (form) => {
        const text = form.elements.reason.value.trim();
        if (!text) throw new ApiError({ field: 'reason', detail: t('auth.fill_in') });
        await step('rejection', { reason: text }, t('legal.done.rejected', { number: q.number }));
      }, { danger: true });
  }

  async function fulfil(q) {
    const data = dataKinds.includes(q.kind) && q.approved_categories.length;
    const text = data ? t('legal.fulfil_text', { categories: categoryList(q.approved_categories) }) : t('legal.fulfil_text_other');
    if (!await confirmDialog(t('legal.fulfil_title', { number: q.number }), text, t('legal.act.fulfil'))) return;
    try {
      await step('fulfilment', undefined, t('legal.done.fulfilled', { number: q.number }));
    } catch (err) {
      toast(errorText(err), { error: true });
    }
  }

  function noteForm(q) {
    const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const submit = h('button', { type: 'submit', class: 'btn small' }, t('legal.note_add'));
    const form = h('form', { class: 'stack le-note-form', novalidate: true, dataset: { form: 'note' } },
      field(t('legal.note'), { tag: 'textarea', name: 'text', rows: '3', maxlength: '5000', dir: 'auto', hint: t('legal.note_hint') }),
      box, h('div', { class: 'actions start' }, submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const text = form.elements.text.value.trim();
      if (!text) {
        showError(form, box, { field: 'text' }, t('auth.fill_in'));
        return;
      }
      submit.disabled = true;
      try {
        await api('POST', `/legal-team/requests/${q.id}/notes`, { text });
        form.elements.text.value = '';
        form.elements.text.blur();
        toast(t('legal.noted'));
        shown = '';
        await load();
      } catch (err) {
        showError(form, box, err, errorText(err));
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  function stop() {
    closed = true;
    clearInterval(timer);
  }

  loadLegalStyles();
  load();
  timer = setInterval(() => { if (!document.hidden) load(); }, refreshEvery);
  return {
    el,
    keys: { Escape: () => { navigate('/console/legal'); return true; } },
    leave: stop,
  };
}

// accessCell says whether an agency or officer may use the portal, with
// the button that changes it.
function accessCell(who, disabledAt, path, reload) {
  const toggle = h('button', { type: 'button', class: disabledAt ? 'btn' : 'btn danger', dataset: { action: disabledAt ? 'enable' : 'disable' } },
    disabledAt ? t('legal.enable') : t('legal.disable'));
  toggle.addEventListener('click', async () => {
    const disable = !disabledAt;
    if (disable && !await confirmDialog(t('legal.disable_title', { name: who.name }), who.disableText, t('legal.disable'), { danger: true })) return;
    toggle.disabled = true;
    try {
      await api('POST', path, { disabled: disable });
      toast(disable ? t('legal.done_disabled', { name: who.name }) : t('legal.done_enabled', { name: who.name }));
      reload();
    } catch (err) {
      toast(errorText(err));
      toggle.disabled = false;
    }
  });
  return h('div', { class: 'le-access' },
    h('span', { class: disabledAt ? 'tag danger' : 'tag' }, disabledAt
      ? t('legal.access_disabled', { time: formatDateTime(disabledAt) }) : t('legal.access_open')),
    toggle);
}

// agencyRows are an agency's row in the agencies table and, below it, a
// row with its officers, shown on demand.
function agencyRows(a, reload, closed) {
  const detail = h('tr', { class: 'le-officers-row', hidden: true }, h('td', { colspan: '7' }));
  const show = h('button', { type: 'button', class: 'btn', 'aria-expanded': 'false', dataset: { action: 'officers' } }, t('legal.officers_show'));
  async function loadOfficers() {
    try {
      const r = await api('GET', `/legal-team/agencies/${a.id}/officers`);
      if (closed()) return;
      replace(detail.firstChild, officersTable(a, r.officers, loadOfficers));
    } catch (err) {
      replace(detail.firstChild, h('p', { class: 'form-error', role: 'alert' }, errorText(err)));
    }
  }
  show.addEventListener('click', () => {
    const open = detail.hidden;
    detail.hidden = !open;
    show.setAttribute('aria-expanded', String(open));
    if (open) loadOfficers();
  });
  const row = h('tr', { class: 'case-row le-agency', dataset: { id: String(a.id) } },
    h('td', { 'data-label': t('legal.agency_name'), dir: 'auto' }, h('strong', {}, a.name)),
    h('td', { 'data-label': t('legal.agency_country') }, country(a.country)),
    h('td', { 'data-label': t('legal.agency_jurisdiction'), dir: 'auto' }, a.jurisdiction || '—'),
    h('td', { 'data-label': t('legal.agency_domains'), dir: 'ltr', class: 'mono' }, a.domains.join(', ')),
    h('td', { 'data-label': t('legal.agency_removal') }, a.removal_orders ? t('legal.yes') : t('legal.no')),
    h('td', { 'data-label': t('legal.agency_added') }, h('time', { datetime: a.created_at }, formatDateTime(a.created_at))),
    h('td', { 'data-label': t('legal.agency_access') }, h('div', { class: 'le-access' },
      accessCell({ name: a.name, disableText: t('legal.agency_disable_text') }, a.disabled_at, `/legal-team/agencies/${a.id}/disabled`, reload),
      show)));
  return [row, detail];
}

// officersTable lists an agency's officers: how far each got signing up,
// and buttons to keep one out or reset them.
function officersTable(a, officers, reload) {
  if (!officers.length) return h('p', { class: 'muted' }, t('legal.officers_empty'));
  const steps = (o) => {
    const missing = [[o.email_verified, t('legal.step_email')], [o.totp_enabled, t('legal.step_totp')], [o.attested, t('legal.step_attest')]]
      .filter(([done]) => !done).map(([, step]) => step);
    return missing.length ? t('legal.officer_pending', { steps: missing.join(', ') }) : t('legal.officer_ready');
  };
  return h('table', { class: 'queue le-officers' },
    h('caption', {}, t('legal.officers_of', { name: a.name })),
    h('thead', {}, h('tr', {}, [t('legal.officer_name'), t('legal.officer_email'), t('legal.officer_steps'), t('legal.agency_access'), '']
      .map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, officers.map((o) => {
      const name = o.badge ? `${o.name} (${o.badge})` : o.name;
      const reset = h('button', { type: 'button', class: 'btn', dataset: { action: 'reset' } }, t('legal.reset'));
      reset.addEventListener('click', async () => {
        if (!await confirmDialog(t('legal.reset_title', { name }), t('legal.reset_text'), t('legal.reset'), { danger: true })) return;
        reset.disabled = true;
        try {
          await api('POST', `/legal-team/officers/${o.id}/reset`);
          toast(t('legal.done_reset', { name }));
          reload();
        } catch (err) {
          toast(errorText(err));
          reset.disabled = false;
        }
      });
      return h('tr', { class: 'le-officer', dataset: { id: String(o.id) } },
        h('td', { 'data-label': t('legal.officer_name'), dir: 'auto' }, name),
        h('td', { 'data-label': t('legal.officer_email'), dir: 'ltr', class: 'mono' }, o.email),
        h('td', { 'data-label': t('legal.officer_steps') }, steps(o)),
        h('td', { 'data-label': t('legal.agency_access') },
          accessCell({ name, disableText: t('legal.officer_disable_text') }, o.disabled_at, `/legal-team/officers/${o.id}/disabled`, reload)),
        h('td', {}, reset));
    })));
}

// agenciesView lists the agencies at /console/agencies and registers new
// ones, and keeps agencies and their officers out of the portal.
export function agenciesView({ notStaff }) {
  const status = h('p', { class: 'muted console-status', role: 'status' });
  const body = h('tbody');
  const wrap = h('div', { class: 'table-wrap' }, h('table', { class: 'queue le-agencies' },
    h('caption', { class: 'sr' }, t('legal.agencies')),
    h('thead', {}, h('tr', {},
      [t('legal.agency_name'), t('legal.agency_country'), t('legal.agency_jurisdiction'), t('legal.agency_domains'), t('legal.agency_removal'), t('legal.agency_added'), t('legal.agency_access')]
        .map((c) => h('th', { scope: 'col' }, c)))),
    body));
  const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const countryF = field(t('legal.agency_country'), { tag: 'select', name: 'country', required: true });
  countryF.querySelector('select').append(h('option', { value: '' }, t('legal.agency_country_pick')), ...countryOptions());
  const form = h('form', { class: 'stack le-agency-form', novalidate: true, 'aria-labelledby': 'le-agency-add-title' },
    h('h3', { id: 'le-agency-add-title' }, t('legal.agency_add_title')),
    h('p', { class: 'hint' }, t('legal.agency_add_text')),
    field(t('legal.agency_name'), { name: 'name', required: true, maxlength: '200', autocomplete: 'organization', dir: 'auto' }),
    countryF,
    field(t('legal.agency_jurisdiction'), { name: 'jurisdiction', maxlength: '200', autocomplete: 'off', dir: 'auto', hint: t('legal.agency_jurisdiction_hint') }),
    field(t('legal.agency_domains'), { tag: 'textarea', name: 'domains', rows: '2', required: true, spellcheck: 'false', autocapitalize: 'none', dir: 'ltr', hint: t('legal.agency_domains_hint') }),
    h('div', { class: 'field le-checkfield' },
      h('div', { class: 'check-row' },
        h('input', { type: 'checkbox', id: 'f-agency-removal', name: 'removal_orders', 'aria-describedby': 'f-agency-removal-hint' }),
        h('label', { for: 'f-agency-removal' }, t('legal.agency_removal_label'))),
      h('p', { class: 'hint', id: 'f-agency-removal-hint' }, t('legal.agency_removal_hint'))),
    box,
    h('div', { class: 'actions start' }, h('button', { type: 'submit', class: 'btn primary' }, t('legal.agency_add'))));
  let closed = false;

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = form.elements;
    const btn = form.querySelector('button[type="submit"]');
    const body = {
      name: f.name.value.trim(),
      country: f.country.value,
      jurisdiction: f.jurisdiction.value.trim() || undefined,
      domains: f.domains.value.split(/[\s,;]+/).map((x) => x.trim().replace(/^@/, '').toLowerCase()).filter(Boolean),
      removal_orders: f.removal_orders.checked || undefined,
    };
    try {
      if (!body.name) throw new ApiError({ field: 'name', detail: t('auth.fill_in') });
      if (!body.country) throw new ApiError({ field: 'country', detail: t('legal.agency_country_pick') });
      if (!body.domains.length) throw new ApiError({ field: 'domains', detail: t('auth.fill_in') });
    } catch (err) {
      showError(form, box, err, err.detail);
      return;
    }
    btn.disabled = true;
    try {
      const a = await api('POST', '/legal-team/agencies', body);
      form.reset();
      showError(form, box, null, '');
      toast(t('legal.agency_added_done', { name: a.name }));
      loadAgencies(true);
      load();
    } catch (err) {
      showError(form, box, err, errorText(err));
    } finally {
      btn.disabled = false;
    }
  });

  async function load() {
    try {
      const list = await loadAgencies(true);
      if (closed) return;
      status.hidden = !!list.length;
      status.textContent = list.length ? '' : t('legal.agencies_empty');
      wrap.hidden = !list.length;
      replace(body, list.flatMap((a) => agencyRows(a, load, () => closed)));
    } catch (err) {
      if (closed) return;
      if (err.status === 403) {
        notStaff(err);
        return;
      }
      status.hidden = false;
      status.textContent = errorText(err);
    }
  }

  loadLegalStyles();
  load();
  return {
    el: h('section', { class: 'console-legal', 'aria-labelledby': 'le-agencies-title' },
      bar('le-agencies-title', t('legal.agencies')),
      h('div', { class: 'le-agencies-layout' },
        h('section', { class: 'case-section', 'aria-label': t('legal.agencies') }, status, wrap),
        h('div', { class: 'case-section' }, form))),
    keys: {},
    leave: () => { closed = true; },
  };
}
