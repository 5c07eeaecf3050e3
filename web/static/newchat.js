// Starting chats: a private chat with someone, a new group or channel, and
// joining with an invite link.
import { api, errorText, ApiError } from './api.js';
import { t } from './i18n.js';
import { h, field, openDialog, showError } from './dom.js';
import { putChat, lookupUser } from './store.js';
import { navigate } from './nav.js';

// formDialog opens a dialog holding a form; submit(values) does the work and
// returns where to go, and its errors are shown in the form.
function formDialog(title, fields, submitLabel, submit) {
  openDialog(title, (close) => {
    const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const btn = h('button', { type: 'submit', class: 'btn primary' }, submitLabel);
    const form = h('form', { class: 'modal-body stack', novalidate: true }, ...fields, box,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', onclick: close }, t('common.cancel')), btn));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      btn.disabled = true;
      btn.setAttribute('aria-busy', 'true');
      try {
        const to = await submit(Object.fromEntries(new FormData(form)));
        close();
        if (to) navigate(to);
      } catch (err) {
        showError(form, box, err, errorText(err));
      } finally {
        btn.disabled = false;
        btn.removeAttribute('aria-busy');
      }
    });
    return form;
  });
}

// usernames splits "alice, @bob carol" into names.
function usernames(s) {
  return String(s || '').split(/[\s,;]+/).map((x) => x.replace(/^@/, '')).filter(Boolean);
}

// lookupAll finds every user named, or throws an error that names the field.
export async function lookupAll(names, fieldName) {
  const ids = [];
  for (const n of names) {
    try {
      ids.push((await lookupUser(n)).id);
    } catch (err) {
      if (err.status === 404) {
        throw new ApiError({ status: 404, field: fieldName, detail: t('new.no_user', { name: n }) });
      }
      throw err;
    }
  }
  return ids;
}

export function newPrivateDialog() {
  formDialog(t('new.private'), [
    field(t('new.username'), { name: 'username', required: true, autocomplete: 'off', autocapitalize: 'none', hint: t('new.username_hint') }),
  ], t('new.open'), async (v) => {
    const name = v.username.trim();
    if (!name) throw new ApiError({ field: 'username', detail: t('auth.fill_in') });
    const [id] = await lookupAll([name], 'username');
    const chat = await api('PUT', `/users/${id}/chat`);
    putChat(chat);
    return `/chats/${chat.id}`;
  });
}

export function newChatDialog(kind) {
  const group = kind === 'group';
  formDialog(group ? t('new.group') : t('new.channel'), [
    field(t('new.title'), { name: 'title', required: true, maxlength: '128', autocomplete: 'off' }),
    field(t('new.about'), { name: 'about', tag: 'textarea', rows: '2', maxlength: '255' }),
    field(t('new.public_name'), { name: 'username', autocomplete: 'off', autocapitalize: 'none', hint: t('new.public_name_hint') }),
    group ? field(t('new.members'), { name: 'members', autocomplete: 'off', autocapitalize: 'none', hint: t('new.members_hint') }) : null,
  ], t('new.create'), async (v) => {
    if (!v.title.trim()) throw new ApiError({ field: 'title', detail: t('new.title_required') });
    const body = { title: v.title.trim() };
    if (v.about.trim()) body.about = v.about.trim();
    if (v.username.trim()) body.username = v.username.trim().replace(/^@/, '');
    if (group) {
      const ids = await lookupAll(usernames(v.members), 'members');
      if (ids.length) body.members = ids;
    }
    const chat = await api('POST', group ? '/chats/groups' : '/chats/channels', body);
    putChat(chat);
    return `/chats/${chat.id}`;
  });
}

// inviteCode takes a pasted link (https://host/join/CODE) or a bare code.
export function inviteCode(s) {
  const v = String(s || '').trim();
  const m = v.match(/\/join\/([^/?#\s]+)/);
  return m ? decodeURIComponent(m[1]) : v;
}

export function joinLinkDialog() {
  formDialog(t('new.join_link'), [
    field(t('new.link'), { name: 'link', required: true, autocomplete: 'off', hint: t('new.link_hint') }),
  ], t('join.join'), async (v) => {
    const code = inviteCode(v.link);
    if (!code) throw new ApiError({ field: 'link', detail: t('auth.fill_in') });
    const chat = await api('POST', `/invites/${encodeURIComponent(code)}/join`);
    putChat(chat);
    return `/chats/${chat.id}`;
  });
}
