// The trusted flaggers in the moderation console: accounts of organisations
// whose reports go ahead of the queue (EU DSA Art. 22). Admins add an
// account by its @username, with the organisation it speaks for, and end
// that standing; the server refuses anyone else.
import { api, errorText, ApiError } from './api.js';
import { t } from './i18n.js';
import { h, replace, field, showError, toast, confirmDialog, formatDateTime } from './dom.js';
import { store, lookupUser } from './store.js';
import { can, person, loadPeople } from './console-labels.js';

export function flaggersView({ notStaff }) {
  const heading = h('div', { class: 'console-bar' }, h('h2', { id: 'flaggers-title' }, t('console.flaggers')));
  if (!can(store.me.role, 'admin')) {
    return {
      el: h('section', { class: 'console-flaggers', 'aria-labelledby': 'flaggers-title' }, heading, h('p', {}, t('console.flaggers_admins'))),
      keys: {},
    };
  }
  let closed = false;
  const status = h('p', { class: 'muted console-status', role: 'status' });
  const body = h('tbody');
  const table = h('div', { class: 'table-wrap' }, h('table', { class: 'queue flaggers' },
    h('caption', { class: 'sr' }, t('console.flaggers')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('console.flaggers_account')),
      h('th', { scope: 'col' }, t('console.flaggers_organisation')),
      h('th', { scope: 'col' }, t('console.flaggers_added')),
      h('th', { scope: 'col' }, h('span', { class: 'sr' }, t('console.flaggers_remove'))))),
    body));

  const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = h('form', { class: 'flagger-form stack', novalidate: true, 'aria-labelledby': 'flagger-add-title' },
    h('h3', { id: 'flagger-add-title' }, t('console.flaggers_add_title')),
    h('p', { class: 'hint' }, t('console.flaggers_text')),
    h('div', { class: 'bulk-fields' },
      field(t('console.flaggers_username'), { name: 'user', autocomplete: 'off', spellcheck: 'false', dir: 'ltr', placeholder: '@username', maxlength: '64', required: true }),
      field(t('console.flaggers_organisation'), { name: 'organisation', autocomplete: 'organization', maxlength: '200', required: true })),
    box,
    h('div', { class: 'actions start' }, h('button', { type: 'submit', class: 'btn primary' }, t('console.flaggers_add'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const btn = form.querySelector('button[type="submit"]');
    btn.disabled = true;
    try {
      const name = form.elements.user.value.trim().replace(/^@/, '');
      const organisation = form.elements.organisation.value.trim();
      if (!name) throw new ApiError({ field: 'user', detail: t('auth.fill_in') });
      if (!organisation) throw new ApiError({ field: 'organisation', detail: t('auth.fill_in') });
      let u;
      try {
        u = await lookupUser(name);
      } catch (err) {
        if (err.status === 404) throw new ApiError({ status: 404, field: 'user', detail: t('console.no_such_user', { name }) });
        throw err;
      }
      await api('POST', '/moderation/flaggers', { user_id: u.id, organisation });
      await loadPeople([u.id]);
      form.reset();
      showError(form, box, null, '');
      toast(t('console.flaggers_added_done', { name: person(u.id) }));
      load();
    } catch (err) {
      showError(form, box, err.field === 'user_id' ? { ...err, field: 'user' } : err, errorText(err));
    } finally {
      btn.disabled = false;
    }
  });

  const el = h('section', { class: 'console-flaggers', 'aria-labelledby': 'flaggers-title' },
    heading,
    h('div', { class: 'bulk-grid' },
      h('section', { class: 'case-section', 'aria-label': t('console.flaggers') }, status, table),
      h('div', { class: 'case-section' }, form)));

  async function load() {
    try {
      const r = await api('GET', '/moderation/flaggers');
      if (closed) return;
      await loadPeople(r.flaggers.map((f) => f.user_id));
      if (closed) return;
      status.hidden = !!r.flaggers.length;
      status.textContent = r.flaggers.length ? '' : t('console.flaggers_empty');
      table.hidden = !r.flaggers.length;
      replace(body, ...r.flaggers.map(row));
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

  function row(f) {
    const name = person(f.user_id);
    return h('tr', { class: 'case-row flagger', dataset: { id: String(f.user_id) } },
      h('td', { 'data-label': t('console.flaggers_account') }, name),
      h('td', { 'data-label': t('console.flaggers_organisation'), dir: 'auto' }, f.organisation),
      h('td', { 'data-label': t('console.flaggers_added') }, h('time', { datetime: f.added_at }, formatDateTime(f.added_at))),
      h('td', {}, h('button', {
        type: 'button', class: 'btn small danger remove', 'aria-label': t('console.flaggers_remove_name', { name }),
        onclick: () => remove(f, name),
      }, t('console.flaggers_remove'))));
  }

  async function remove(f, name) {
    const yes = await confirmDialog(t('console.flaggers_remove'), t('console.flaggers_remove_text', { name, organisation: f.organisation }),
      t('console.flaggers_remove'), { danger: true });
    if (!yes) return;
    try {
      await api('DELETE', `/moderation/flaggers/${f.user_id}`);
      toast(t('console.flaggers_removed', { name }));
      await load();
      form.elements.user.focus();
    } catch (err) {
      toast(errorText(err), { error: true });
    }
  }

  load();
  return {
    el,
    keys: {},
    leave: () => { closed = true; },
  };
}
