// Bulk actions in the moderation console: one decision applied to every
// posting of a file, named by its SHA-256 — every message that carries it
// removed, or every group and channel that posted it taken down. The
// moderator previews what it would act on, then requests it; a small one
// runs at once, a larger one waits for a second moderator, who approves or
// rejects it here. Each subject gets its own case and statement of reasons.
import { api, errorText, ApiError } from './api.js';
import { t } from './i18n.js';
import { h, replace, field, showError, toast, formatDateTime } from './dom.js';
import { store } from './store.js';
import {
  can, loadCategories, categoryLabel, actionLabel, groundLabel, person, subjectText, chatTitle, loadPeople,
} from './console-labels.js';

export function bulkView({ notStaff }) {
  const role = store.me.role;
  const heading = h('div', { class: 'console-bar' }, h('h2', { id: 'bulk-title' }, t('console.bulk')));
  if (!can(role, 'act')) {
    return {
      el: h('section', { class: 'console-bulk', 'aria-labelledby': 'bulk-title' }, heading, h('p', {}, t('console.bulk_moderators'))),
      keys: {},
    };
  }
  let closed = false;
  let refresh = 0; // the timer that reloads the list while an action runs

  // The request.
  const kind = field(t('console.bulk_kind'), { name: 'kind', tag: 'select' });
  kind.querySelector('select').append(
    h('option', { value: 'takedown' }, t('console.bulk_kind_takedown')),
    h('option', { value: 'remove_message' }, t('console.bulk_kind_remove')));
  const sha = field(t('console.bulk_sha256'), {
    name: 'sha256', autocomplete: 'off', spellcheck: 'false', dir: 'ltr', maxlength: '80', required: true, class: 'mono', hint: t('console.bulk_sha256_hint'),
  });
  const category = field(t('console.category'), { name: 'category', tag: 'select' });
  const ground = field(t('console.ground'), { name: 'ground', tag: 'select' });
  ground.querySelector('select').append(h('option', { value: 'terms' }, t('console.ground.terms')), h('option', { value: 'illegal' }, t('console.ground.illegal')));
  const ref = field(t('console.legal_reference'), { name: 'legal_reference', maxlength: '500', autocomplete: 'off', hint: t('console.legal_reference_hint') });
  ref.hidden = true;
  const facts = field(t('console.facts'), { name: 'facts', tag: 'textarea', rows: '4', maxlength: '5000', required: true, hint: t('console.bulk_facts_hint') });
  const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const previewBtn = h('button', { type: 'submit', class: 'btn', dataset: { step: 'preview' } }, t('console.bulk_preview'));
  const requestBtn = h('button', { type: 'submit', class: 'btn danger', dataset: { step: 'request' }, hidden: true }, t('console.bulk_request'));
  const form = h('form', { class: 'bulk-form stack', novalidate: true, 'aria-labelledby': 'bulk-new-title' },
    h('h3', { id: 'bulk-new-title' }, t('console.bulk_new')),
    h('p', { class: 'hint' }, t('console.bulk_text')),
    kind, h('div', { class: 'bulk-fields' }, category, ground, ref), sha, facts, box,
    h('div', { class: 'actions start' }, previewBtn, requestBtn));
  const preview = h('section', { class: 'bulk-preview', 'aria-live': 'polite', 'aria-labelledby': 'bulk-preview-title', hidden: true });

  loadCategories().then((list) => {
    // No category is chosen for the moderator: they must say which.
    category.querySelector('select').append(h('option', { value: '' }, t('console.bulk_choose')), ...list.map((c) => h('option', { value: c.id }, c.label)));
  }, () => {});
  ground.querySelector('select').addEventListener('change', (e) => { ref.hidden = e.target.value !== 'illegal'; });
  // A preview is of what the form said then: any change asks for another.
  form.addEventListener('input', () => forget());
  form.addEventListener('change', () => forget());
  function forget() {
    if (preview.hidden) return;
    preview.hidden = true;
    replace(preview);
    requestBtn.hidden = true;
  }

  function params() {
    const f = form.elements;
    const p = { kind: f.kind.value, sha256: f.sha256.value.trim(), category: f.category.value, ground: f.ground.value, facts: f.facts.value.trim() };
    if (!p.sha256) throw new ApiError({ field: 'sha256', detail: t('auth.fill_in') });
    if (!p.facts) throw new ApiError({ field: 'facts', detail: t('auth.fill_in') });
    if (p.ground === 'illegal') p.legal_reference = f.legal_reference.value.trim();
    return p;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const request = e.submitter && e.submitter.dataset.step === 'request';
    const btn = request ? requestBtn : previewBtn;
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    try {
      const p = params();
      if (request) {
        const b = await api('POST', '/moderation/bulk', p);
        forget();
        form.reset();
        ref.hidden = true;
        showError(form, box, null, '');
        toast(outcome(b));
        state.value = b.state;
        load();
      } else {
        const b = await api('POST', '/moderation/bulk/preview', p);
        await loadPeople((b.targets || []).map((x) => x.affected_id));
        if (closed) return;
        showError(form, box, null, '');
        showPreview(b);
      }
    } catch (err) {
      showError(form, box, err, errorText(err));
    } finally {
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
    }
  });

  function showPreview(b) {
    const targets = b.targets || [];
    replace(preview,
      h('h3', { id: 'bulk-preview-title' }, t('console.bulk_would', { count: targets.length })),
      b.needs_approval ? h('p', { class: 'warning' }, t('console.bulk_needs_approval')) : null,
      targets.length
        ? h('div', { class: 'table-wrap' }, h('table', { class: 'queue bulk-targets' },
          h('caption', { class: 'sr' }, t('console.bulk_targets')),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, t('console.col.subject')),
            h('th', { scope: 'col' }, t('info.members')),
            h('th', { scope: 'col' }, t('console.bulk_affected')))),
          h('tbody', {}, targets.map((x) => h('tr', { class: 'case-row bulk-target' },
            h('td', { class: 'subject', 'data-label': t('console.col.subject'), dir: 'auto' }, subjectText(x.subject, x.title)),
            h('td', { class: 'num', 'data-label': t('info.members') }, String(x.members)),
            h('td', { 'data-label': t('console.bulk_affected') }, person(x.affected_id)))))))
        : h('p', { class: 'muted' }, t('console.bulk_nothing')));
    preview.hidden = false;
    requestBtn.hidden = !targets.length;
  }

  // The requests.
  const stateId = 'bulk-state';
  const state = h('select', { id: stateId, name: 'state' },
    h('option', { value: 'pending' }, t('console.bulk_state.pending')),
    h('option', { value: 'running' }, t('console.bulk_state.running')),
    h('option', { value: 'done' }, t('console.bulk_state.done')),
    h('option', { value: 'rejected' }, t('console.bulk_state.rejected')));
  const status = h('p', { class: 'muted console-status', role: 'status' });
  const list = h('ul', { class: 'bulk-requests', 'aria-labelledby': 'bulk-list-title' });
  state.addEventListener('change', () => load());

  const el = h('section', { class: 'console-bulk', 'aria-labelledby': 'bulk-title' },
    heading,
    h('div', { class: 'bulk-grid' },
      h('div', { class: 'case-section' }, form, preview),
      h('section', { class: 'case-section', 'aria-labelledby': 'bulk-list-title' },
        h('h3', { id: 'bulk-list-title' }, t('console.bulk_requests')),
        h('form', { class: 'console-filters', role: 'search', 'aria-label': t('console.filters'), onsubmit: (e) => e.preventDefault() },
          h('div', { class: 'field' }, h('label', { for: stateId }, t('console.state')), state)),
        status, list)));

  async function load() {
    const want = state.value;
    try {
      const r = await api('GET', `/moderation/bulk?state=${encodeURIComponent(want)}`);
      if (closed || want !== state.value) return;
      await loadPeople(r.bulk.flatMap((b) => [b.requested_by, b.decided_by]));
      if (closed || want !== state.value) return;
      status.hidden = !!r.bulk.length;
      status.textContent = r.bulk.length ? '' : t('console.bulk_empty');
      replace(list, ...r.bulk.map(row));
      // The server works through a running action in the background: follow it.
      clearTimeout(refresh);
      if (r.bulk.some((b) => b.state === 'running')) refresh = setTimeout(load, 2000);
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

  function row(b) {
    const headId = `bulk-${b.id}`;
    const own = b.requested_by === store.me.id;
    const subjects = h('ul', { class: 'bulk-subjects' }, b.subjects.map((s) => {
      const li = h('li', { dir: 'auto' }, subjectText(s, ''));
      if (s.chat_id) chatTitle(s.chat_id).then((title) => { if (title) li.textContent = subjectText(s, title); });
      return li;
    }));
    return h('li', { class: `bulk-row ${b.state}`, dataset: { id: String(b.id) } },
      h('article', { 'aria-labelledby': headId },
        h('h4', { id: headId }, t('console.bulk_title', { id: b.id, action: actionLabel(b.kind), count: b.subjects.length })),
        h('dl', { class: 'facts' },
          h('dt', {}, t('console.bulk_sha256')), h('dd', { class: 'mono', dir: 'ltr' }, b.sha256),
          h('dt', {}, t('console.category')), h('dd', {}, categoryLabel(b.category)),
          h('dt', {}, t('console.ground')), h('dd', {}, groundLabel(b.ground), b.legal_reference ? ` (${b.legal_reference})` : ''),
          h('dt', {}, t('console.facts')), h('dd', { class: 'note', dir: 'auto' }, b.facts),
          h('dt', {}, t('console.bulk_requested')), h('dd', {},
            t('console.decided_by', { when: b.created_at ? formatDateTime(b.created_at) : '', name: own ? t('console.you') : person(b.requested_by) })),
          b.state !== 'pending' && b.decided_by ? [h('dt', {}, t('console.decided')), h('dd', {},
            t('console.decided_by', { when: b.decided_at ? formatDateTime(b.decided_at) : '', name: person(b.decided_by) }),
            b.reason ? h('span', { class: 'note', dir: 'auto' }, ` — ${b.reason}`) : null)] : null,
          b.state === 'done' || b.state === 'running' ? [h('dt', {}, t('console.bulk_result')), h('dd', {}, outcome(b))] : null),
        h('details', {}, h('summary', {}, t('console.bulk_subjects', { count: b.subjects.length })), subjects),
        b.state === 'pending' ? decide(b, own) : null));
  }

  function decide(b, own) {
    const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const approve = h('button', { type: 'button', class: 'btn primary', dataset: { decision: 'approve' } }, t('console.bulk_approve'));
    const reject = h('button', { type: 'submit', class: 'btn', dataset: { decision: 'reject' } }, t('console.bulk_reject'));
    const f = h('form', { class: 'decide-form bulk-decide stack', novalidate: true },
      own ? h('p', { class: 'warning' }, t('console.bulk_own_warning')) : null,
      field(t('console.bulk_reject_reason'), { name: 'reason', tag: 'textarea', rows: '2', maxlength: '2000', hint: t('console.bulk_reject_hint') }),
      box,
      h('div', { class: 'actions start' }, approve, reject));
    const busy = (on) => { approve.disabled = on; reject.disabled = on; };
    approve.addEventListener('click', async () => {
      busy(true);
      try {
        const r = await api('POST', `/moderation/bulk/${b.id}/approve`);
        toast(outcome(r));
        load();
      } catch (err) {
        showError(f, box, null, err.reason === 'own_request' ? t('console.bulk_own_request') : errorText(err));
      } finally {
        busy(false);
      }
    });
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const reason = f.elements.reason.value.trim();
      if (!reason) {
        showError(f, box, { field: 'reason' }, t('auth.fill_in'));
        return;
      }
      busy(true);
      try {
        await api('POST', `/moderation/bulk/${b.id}/reject`, { reason });
        toast(t('console.bulk_rejected'));
        load();
      } catch (err) {
        showError(f, box, err, errorText(err));
      } finally {
        busy(false);
      }
    });
    return f;
  }

  // outcome says where a requested or approved bulk action stands.
  function outcome(b) {
    if (b.state === 'done') return t('console.bulk_done', { done: b.done, failed: b.failed });
    if (b.state === 'running') return t('console.bulk_running', { done: b.done, failed: b.failed, count: b.subjects.length });
    return t('console.bulk_pending');
  }

  load();
  return {
    el,
    keys: {},
    leave: () => { closed = true; clearTimeout(refresh); },
  };
}
