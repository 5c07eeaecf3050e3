// The appeals in the moderation console: each with the decision appealed
// against, as its statement of reasons put it, or, for a notifier's or
// reporter's request to review a dismissal, the dismissed case; and what
// the person who appealed wrote. Pending appeals come soonest due first,
// the overdue marked; staff assign them to a moderator other than the one
// who decided, who upholds the appeal (the decision is reversed at once, or
// the dismissed case reopened) or rejects it, with reasons.
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
  const mineId = 'a-mine';
  const mine = h('input', { type: 'checkbox', id: mineId, name: 'mine' });
  const status = h('p', { class: 'muted console-status', role: 'status' });
  const list = h('ul', { class: 'appeals', 'aria-labelledby': 'appeals-title' });
  const el = h('section', { class: 'console-appeals', 'aria-labelledby': 'appeals-title' },
    h('div', { class: 'console-bar' }, h('h2', { id: 'appeals-title' }, t('console.appeals'))),
    h('form', { class: 'console-filters', role: 'search', 'aria-label': t('console.filters') },
      h('div', { class: 'field' }, h('label', { for: stateId }, t('console.state')), state),
      h('div', { class: 'field check' }, mine, h('label', { for: mineId }, t('console.appeal_mine')))),
    h('p', { class: 'hint' }, can(role, 'act') ? t('console.appeals_text') : t('console.appeals_triage')),
    status, list);
  let closed = false;

  state.addEventListener('change', () => load());
  mine.addEventListener('change', () => load());

  async function load() {
    const want = `state=${encodeURIComponent(state.value)}${mine.checked ? `&assignee=${store.me.id}` : ''}`;
    const current = () => want === `state=${encodeURIComponent(state.value)}${mine.checked ? `&assignee=${store.me.id}` : ''}`;
    try {
      await loadCategories().catch(() => {});
      const r = await api('GET', `/moderation/appeals?${want}`);
      if (closed || !current()) return;
      await loadPeople(r.appeals.flatMap((p) => [p.user_id, p.decided_by, p.assignee_id, p.decider_id,
        p.decision && p.decision.moderator_id, p.decision && p.decision.subject && p.decision.subject.user_id]));
      if (closed || !current()) return;
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
    const own = p.decider_id === store.me.id || (!!a.moderator_id && a.moderator_id === store.me.id);
    const headId = `appeal-${p.id}`;
    const review = p.kind === 'dismissal';
    return h('li', { class: `appeal-row ${p.state}${p.overdue ? ' overdue' : ''}`, dataset: { id: String(p.id), kind: p.kind } },
      h('article', { 'aria-labelledby': headId },
        h('h3', { id: headId }, review ? t('console.review_title', { id: p.id }) : t('console.appeal_title', { id: p.id, action: actionLabel(a.kind) })),
        h('p', { class: 'muted' }, p.notice_id
          ? t('console.review_filed_notice', { when: formatDateTime(p.created_at), notice: p.notice_id })
          : t('console.appeal_filed', { when: formatDateTime(p.created_at), name: person(p.user_id) })),
        p.state === 'pending' ? dueLine(p, own) : null,
        h('div', { class: 'appeal-grid' },
          review ? dismissed(p) : h('section', { class: 'statement', 'aria-label': t('console.decision') },
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

  // dueLine says when a pending appeal is due and who is to decide it, and
  // lets staff take it (never the one who took the decision under review).
  function dueLine(p, own) {
    const parts = [
      h('span', { class: p.overdue ? 'overdue' : '' }, p.overdue
        ? t('console.appeal_overdue', { when: formatDateTime(p.due_at) })
        : t('console.appeal_due', { when: formatDateTime(p.due_at) })),
    ];
    if (p.assignee_id) parts.push(' · ', t('console.appeal_assigned', { name: p.assignee_id === store.me.id ? t('console.you') : person(p.assignee_id) }));
    const assign = async (to) => {
      try {
        await api('POST', `/moderation/appeals/${p.id}/assign`, { user_id: to });
        toast(t('console.appeal_assigned_done'));
        load();
      } catch (err) {
        toast(errorText(err));
      }
    };
    if (can(role, 'act') && !own && p.assignee_id !== store.me.id) {
      parts.push(' ', h('button', { type: 'button', class: 'btn small', dataset: { act: 'assign-me' }, onclick: () => assign(store.me.id) }, t('console.appeal_assign_me')));
    }
    if (can(role, 'sort') && p.assignee_id) {
      parts.push(' ', h('button', { type: 'button', class: 'btn small', dataset: { act: 'unassign' }, onclick: () => assign(0) }, t('console.appeal_unassign')));
    }
    return h('p', { class: 'appeal-due' }, ...parts);
  }

  // dismissed shows the case a review is about, as it is now.
  function dismissed(p) {
    const c = p.case || { id: p.case_id, subject: {} };
    return h('section', { class: 'statement', 'aria-label': t('console.review_case') },
      h('h4', {}, t('console.review_case')),
      h('dl', { class: 'facts' },
        h('dt', {}, t('console.col.subject')), h('dd', {}, subjectText(c.subject || {}, '')),
        c.category ? [h('dt', {}, t('console.category')), h('dd', {}, categoryLabel(c.category))] : null,
        h('dt', {}, t('console.decided')), h('dd', {},
          t('console.decided_by', { when: c.resolved_at ? formatDateTime(c.resolved_at) : '', name: p.decider_id === store.me.id ? t('console.you') : person(p.decider_id) })),
        h('dt', {}, t('console.case')), h('dd', {}, h('a', { href: `/console/cases/${p.case_id}` }, t('console.case_n', { id: p.case_id })))));
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
        toast(uphold ? (p.kind === 'dismissal' ? t('console.review_upheld_done') : t('console.upheld_done')) : t('console.rejected_done'));
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
