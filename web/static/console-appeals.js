// The appeals in the moderation console: each with the decision appealed
// against, as its statement of reasons put it, and what the person who
// appealed wrote. A moderator other than the one who decided upholds the
// appeal (the decision is reversed at once) or rejects it, with reasons.
import { api, errorText } from './api.js';
import { t } from './i18n.js';
import { h, replace, field, showError, toast, formatDateTime } from './dom.js';
import { store } from './store.js';
import {
  can, loadCategories, categoryLabel, actionLabel, groundLabel, sourceLabel, person, subjectText, warningLabel, loadPeople,
} from './console-labels.js';

export function appealsView({ notStaff }) {
  const role = store.me.role;
  const stateId = 'a-state';
  const state = h('select', { id: stateId, name: 'state' },
    h('option', { value: 'pending' }, t('console.appeal.pending')),
    h('option', { value: 'upheld' }, t('console.appeal.upheld')),
    h('option', { value: 'rejected' }, t('console.appeal.rejected')));
  const status = h('p', { class: 'muted console-status', role: 'status' });
  const list = h('ul', { class: 'appeals', 'aria-labelledby': 'appeals-title' });
  const el = h('section', { class: 'console-appeals', 'aria-labelledby': 'appeals-title' },
    h('div', { class: 'console-bar' }, h('h2', { id: 'appeals-title' }, t('console.appeals'))),
    h('form', { class: 'console-filters', role: 'search', 'aria-label': t('console.filters') },
      h('div', { class: 'field' }, h('label', { for: stateId }, t('console.state')), state)),
    h('p', { class: 'hint' }, can(role, 'act') ? t('console.appeals_text') : t('console.appeals_triage')),
    status, list);
  let closed = false;

  state.addEventListener('change', () => load());

  async function load() {
    const want = state.value;
    try {
      await loadCategories().catch(() => {});
      const r = await api('GET', `/moderation/appeals?state=${encodeURIComponent(want)}`);
      if (closed || want !== state.value) return;
      await loadPeople(r.appeals.flatMap((p) => [p.user_id, p.decided_by, p.decision && p.decision.moderator_id, p.decision && p.decision.subject && p.decision.subject.user_id]));
      if (closed || want !== state.value) return;
      status.hidden = !!r.appeals.length;
      status.textContent = r.appeals.length ? '' : t('console.appeals_empty');
      replace(list, ...r.appeals.map(row));
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

  function row(p) {
    const a = p.decision || {};
    const own = a.moderator_id === store.me.id;
    const headId = `appeal-${p.id}`;
    return h('li', { class: `appeal-row ${p.state}`, dataset: { id: String(p.id) } },
      h('article', { 'aria-labelledby': headId },
        h('h3', { id: headId }, t('console.appeal_title', { id: p.id, action: actionLabel(a.kind) })),
        h('p', { class: 'muted' }, t('console.appeal_filed', { when: formatDateTime(p.created_at), name: person(p.user_id) })),
        h('div', { class: 'appeal-grid' },
          h('section', { class: 'statement', 'aria-label': t('console.decision') },
            h('h4', {}, t('console.decision')),
            h('dl', { class: 'facts' },
              h('dt', {}, t('console.decision_kind')), h('dd', {}, actionLabel(a.kind), a.label ? ` (${warningLabel(a.label)})` : '', ` · ${subjectText(a.subject || {}, '')}`),
              h('dt', {}, t('console.category')), h('dd', {}, categoryLabel(a.category)),
              h('dt', {}, t('console.ground')), h('dd', {}, groundLabel(a.ground), a.legal_reference ? ` (${a.legal_reference})` : ''),
              a.excerpt ? [h('dt', {}, t('console.restricted')), h('dd', { dir: 'auto' }, a.excerpt)] : null,
              h('dt', {}, t('console.facts')), h('dd', { dir: 'auto', class: 'note' }, a.facts),
              h('dt', {}, t('console.source')), h('dd', {}, sourceLabel(a.source),
                a.automated_detection ? ` · ${t('console.automated_detection')}` : ''),
              h('dt', {}, t('console.decided')), h('dd', {},
                t('console.decided_by', { when: formatDateTime(a.created_at), name: own ? t('console.you') : person(a.moderator_id) })),
              h('dt', {}, t('console.case')), h('dd', {}, h('a', { href: `/console/cases/${a.case_id}` }, t('console.case_n', { id: a.case_id }))))),
          h('section', { class: 'appellant', 'aria-label': t('console.appeal_text') },
            h('h4', {}, t('console.appeal_text')),
            h('blockquote', { class: 'appeal-text', dir: 'auto' }, p.text))),
        p.state === 'pending' ? decideForm(p, own) : outcome(p)));
  }

  function outcome(p) {
    const what = p.state === 'upheld' ? t('console.appeal.upheld') : t('console.appeal.rejected');
    return h('p', { class: 'appeal-outcome' },
      h('strong', {}, what), ' · ', t('console.decided_by', { when: formatDateTime(p.decided_at), name: person(p.decided_by) }),
      p.reason ? h('span', { class: 'note', dir: 'auto' }, ` — ${p.reason}`) : null);
  }

  function decideForm(p, own) {
    if (!can(role, 'act')) return null;
    const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const buttons = [
      h('button', { type: 'submit', class: 'btn primary', dataset: { decision: 'uphold' } }, t('console.uphold')),
      h('button', { type: 'submit', class: 'btn', dataset: { decision: 'reject' } }, t('console.reject')),
    ];
    const form = h('form', { class: 'decide-form stack', novalidate: true },
      own ? h('p', { class: 'warning' }, t('console.own_warning')) : null,
      field(t('console.decide_reason'), { name: 'reason', tag: 'textarea', rows: '3', maxlength: '2000', required: true, hint: t('console.decide_hint') }),
      box,
      h('div', { class: 'actions start' }, ...buttons));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const uphold = (e.submitter && e.submitter.dataset.decision) === 'uphold';
      const reason = form.elements.reason.value.trim();
      if (!reason) {
        showError(form, box, { field: 'reason' }, t('auth.fill_in'));
        return;
      }
      for (const b of buttons) b.disabled = true;
      try {
        await api('POST', `/moderation/appeals/${p.id}/decision`, { uphold, reason });
        toast(uphold ? t('console.upheld_done') : t('console.rejected_done'));
        load();
      } catch (err) {
        showError(form, box, err, err.reason === 'own_decision' ? t('console.own_decision') : errorText(err));
      } finally {
        for (const b of buttons) b.disabled = false;
      }
    });
    return form;
  }

  load();
  return {
    el,
    keys: {},
    leave: () => { closed = true; },
  };
}
