// A group's or channel's details and members, and what its admins and
// members can do: edit the title, make invite links, add people, change
// roles, leave, report it. And a person's profile, from a private chat.
import { api, errorText, ApiError } from './api.js';
import { t } from './i18n.js';
import { h, replace, field, openDialog, showError, confirmDialog, toast, avatar, icon } from './dom.js';
import { store, on, isAdmin, can, putChat, dropChat, lookupUser, chatMembers, userName } from './store.js';
import { lookupAll } from './newchat.js';
import { navigate } from './nav.js';
import { reportDialog } from './report.js';
import { openSecretChat } from './secretchat.js';

function roleLabel(role) {
  if (role === 'owner') return t('role.owner');
  if (role === 'admin') return t('role.admin');
  return t('role.member');
}

// section is one part of the dialog: a heading and a small form.
function section(title, ...children) {
  return h('section', { class: 'info-section' }, h('h3', {}, title), ...children);
}

// smallForm runs act(values) on submit, showing its error or done text.
function smallForm(fields, buttons) {
  const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = h('form', { class: 'stack', novalidate: true }, ...fields, box, h('div', { class: 'actions' }, ...buttons.map((b) => b.el)));
  for (const b of buttons) {
    b.el.addEventListener('click', async (e) => {
      e.preventDefault();
      b.el.disabled = true;
      try {
        const done = await b.act(Object.fromEntries(new FormData(form)));
        showError(form, box, null, '');
        if (done) toast(done);
      } catch (err) {
        showError(form, box, err, errorText(err));
      } finally {
        b.el.disabled = false;
      }
    });
  }
  return form;
}

function button(label, act, cls = 'btn') {
  return { el: h('button', { type: 'submit', class: cls }, label), act };
}

// linkBox is a link to copy: the text, selectable, and a copy button.
function linkBox(url, label) {
  const out = h('input', { type: 'text', readonly: true, value: url, class: 'invite-link', 'aria-label': label });
  const copy = h('button', { type: 'button', class: 'btn small' }, t('info.copy'));
  copy.addEventListener('click', async () => {
    out.select();
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      document.execCommand('copy');
    }
    toast(t('info.copied'));
  });
  return h('div', { class: 'link-box' }, out, copy);
}

const roleOrder = { owner: 0, admin: 1, member: 2 };

// membersSection lists the chat's members, owner and admins first, as the
// server shows them to the user: a channel's subscribers only to its
// admins, and to others its admins. load fetches the list again.
function membersSection(chat) {
  const onlyAdmins = chat.kind === 'channel' && !isAdmin(chat);
  const titleId = `members-${chat.id}`;
  const status = h('p', { class: 'muted', 'aria-live': 'polite' }, t('info.members_loading'));
  const ul = h('ul', { class: 'devices', 'aria-labelledby': titleId });
  const el = h('section', { class: 'info-section' },
    h('h3', { id: titleId }, onlyAdmins ? t('info.admins') : chat.kind === 'channel' ? t('info.subscribers') : t('info.members')), status, ul);
  let seq = 0;
  async function load() {
    const mine = ++seq;
    try {
      const { members, complete } = await chatMembers(chat.id);
      if (mine !== seq) return;
      const sorted = [...members].sort((a, b) => (roleOrder[a.role] ?? 3) - (roleOrder[b.role] ?? 3) || a.user_id - b.user_id);
      replace(ul, ...sorted.map(memberRow));
      status.classList.remove('form-error');
      status.textContent = complete ? '' : t('info.members_shown', { shown: members.length, count: chat.member_count });
      status.hidden = complete;
    } catch (err) {
      if (mine !== seq) return;
      status.classList.add('form-error');
      status.textContent = errorText(err);
      status.hidden = false;
    }
  }
  load();
  return { el, load };
}

// memberRow is one member; a click on them opens what can be done about
// them (write in private, block, report).
function memberRow(m) {
  const name = m.display_name || (m.username ? `@${m.username}` : t('user.unknown', { id: m.user_id }));
  const who = h('div', {},
    h('p', { class: 'device-name', dir: 'auto' }, name),
    m.username ? h('p', { class: 'muted' }, h('bdi', {}, `@${m.username}`)) : null);
  return h('li', { class: 'device member' },
    avatar(name, m.user_id),
    m.user_id === store.me.id || !m.username ? who : h('button', {
      type: 'button', class: 'member-open', 'aria-label': t('peer.open', { name }),
      onclick: () => peerInfoDialog(m.user_id),
    }, who),
    h('span', { class: m.role === 'member' ? 'muted' : 'tag' }, roleLabel(m.role)));
}

export function chatInfoDialog(chat) {
  const admin = isAdmin(chat);
  const owner = chat.role === 'owner';
  let stopFollowing = () => {};
  const dlg = openDialog(chat.title, (close) => {
    const body = h('div', { class: 'modal-body info' });
    const facts = h('dl', { class: 'facts' },
      h('dt', {}, t('info.kind')), h('dd', {}, chat.kind === 'channel' ? t('chat.kind_channel') : t('chat.kind_group')),
      chat.username ? [h('dt', {}, t('info.public_name')), h('dd', {}, h('bdi', {}, `@${chat.username}`))] : null,
      h('dt', {}, chat.kind === 'channel' ? t('info.subscribers') : t('info.members')), h('dd', {}, String(chat.member_count)),
      chat.role ? [h('dt', {}, t('info.your_role')), h('dd', {}, roleLabel(chat.role))] : null);
    body.append(h('div', { class: 'info-head' }, avatar(chat.title, chat.id),
      h('div', {}, h('p', { class: 'info-title', dir: 'auto' }, chat.title), chat.about ? h('p', { class: 'muted', dir: 'auto' }, chat.about) : null)), facts);
    if (chat.username) {
      // A public chat's link, to share: it opens the chat for anyone.
      body.append(section(t('info.share'), h('p', { class: 'muted' }, t('info.share_text')),
        linkBox(`${location.origin}/c/${encodeURIComponent(chat.username)}`, t('info.share_link'))));
    }

    if (can(chat, 'edit_info')) {
      body.append(section(t('info.edit'), smallForm([
        field(t('new.title'), { name: 'title', value: chat.title, maxlength: '128' }),
        field(t('new.about'), { name: 'about', tag: 'textarea', rows: '2', maxlength: '255' }),
      ], [button(t('common.save'), async (v) => {
        if (!v.title.trim()) throw new ApiError({ field: 'title', detail: t('new.title_required') });
        const c = await api('PATCH', `/chats/${chat.id}`, { title: v.title.trim(), about: v.about.trim() });
        putChat(c);
        return t('info.saved');
      }, 'btn primary')])));
      const about = body.querySelector('textarea[name="about"]');
      if (about) about.value = chat.about || '';
    }

    if (chat.role && (admin || can(chat, 'add_users'))) {
      const linkOut = h('div', { class: 'invite-out', 'aria-live': 'polite' });
      const make = h('button', { type: 'button', class: 'btn' }, t('info.invite_create'));
      make.addEventListener('click', async () => {
        make.disabled = true;
        try {
          const inv = await api('POST', `/chats/${chat.id}/invites`, {});
          const url = `${location.origin}/join/${encodeURIComponent(inv.code)}`;
          const box = linkBox(url, t('info.invite_link'));
          linkOut.replaceChildren(box);
          const out = box.querySelector('input');
          out.focus();
          out.select();
        } catch (err) {
          linkOut.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, errorText(err)));
        } finally {
          make.disabled = false;
        }
      });
      body.append(section(t('info.invite'), h('p', { class: 'muted' }, t('info.invite_text')), make, linkOut));
    }

    if (chat.role && chat.kind === 'group' && (admin || can(chat, 'add_users'))) {
      body.append(section(t('info.add'), smallForm([
        field(t('new.members'), { name: 'members', autocomplete: 'off', autocapitalize: 'none', hint: t('new.members_hint') }),
      ], [button(t('info.add_button'), async (v) => {
        const ids = await lookupAll(String(v.members || '').split(/[\s,;]+/).map((x) => x.replace(/^@/, '')).filter(Boolean), 'members');
        if (!ids.length) throw new ApiError({ field: 'members', detail: t('auth.fill_in') });
        await api('POST', `/chats/${chat.id}/members`, { user_ids: ids });
        return t('info.added');
      }, 'btn primary')])));
    }

    if (admin) {
      // People are named by @username, as the list of members shows them.
      const roleField = owner ? h('div', { class: 'field' },
        h('label', { for: `role-${chat.id}` }, t('info.role')),
        h('select', { id: `role-${chat.id}`, name: 'role' },
          h('option', { value: 'member' }, t('role.member')),
          h('option', { value: 'admin' }, t('role.admin')),
          h('option', { value: 'owner' }, t('role.owner')))) : null;
      const who = async (v) => {
        const name = String(v.user || '').trim();
        if (!name) throw new ApiError({ field: 'user', detail: t('auth.fill_in') });
        try {
          return await lookupUser(name);
        } catch (err) {
          if (err.status === 404) throw new ApiError({ status: 404, field: 'user', detail: t('new.no_user', { name }) });
          throw err;
        }
      };
      const buttons = [];
      if (owner) {
        buttons.push(button(t('info.set_role'), async (v) => {
          const u = await who(v);
          await api('PUT', `/chats/${chat.id}/members/${u.id}/role`, { role: v.role });
          return t('info.role_set', { name: u.username, role: roleLabel(v.role) });
        }));
      }
      buttons.push(button(t('info.remove'), async (v) => {
        const u = await who(v);
        if (!await confirmDialog(t('info.remove'), t('info.remove_confirm', { name: u.username }), t('info.remove'), { danger: true })) return '';
        await api('DELETE', `/chats/${chat.id}/members/${u.id}`);
        return t('info.removed', { name: u.username });
      }, 'btn danger'));
      body.append(section(t('info.manage'), h('p', { class: 'muted' }, t('info.manage_text')), smallForm([
        field(t('auth.username'), { name: 'user', autocomplete: 'off', autocapitalize: 'none' }), roleField,
      ], buttons)));
    }

    if (chat.role && !chat.unavailable) {
      // Someone joining, leaving or changing role while the dialog is open
      // shows in the list, fetched again once a busy chat is quiet for a
      // moment.
      const members = membersSection(chat);
      let timer = 0;
      const off = on('members', (id) => {
        if (id !== chat.id) return;
        clearTimeout(timer);
        timer = setTimeout(members.load, 500);
      });
      stopFollowing = () => { off(); clearTimeout(timer); };
      body.append(members.el);
    }
    // Leaving and reporting, apart from the rest.
    const endRow = h('div', { class: 'actions leave' });
    if (chat.role) {
      const leave = h('button', { type: 'button', class: 'btn danger' }, chat.kind === 'channel' ? t('info.unsubscribe') : t('info.leave'));
      leave.addEventListener('click', async () => {
        if (!await confirmDialog(leave.textContent, t('info.leave_confirm', { title: chat.title }), leave.textContent, { danger: true })) return;
        try {
          await api('POST', `/chats/${chat.id}/leave`);
          close();
          dropChat(chat.id);
          navigate('/');
        } catch (err) {
          toast(errorText(err), { error: true });
        }
      });
      endRow.append(leave);
    }
    if (!owner) {
      const channel = chat.kind === 'channel';
      endRow.append(h('button', {
        type: 'button', class: 'btn danger', 'data-action': 'report-chat',
        onclick: () => {
          close();
          reportDialog({ kind: 'chat', chat_id: chat.id }, {
            title: channel ? t('report.title_channel') : t('report.title_group'),
            what: chat.title,
          });
        },
      }, channel ? t('report.channel') : t('report.group')));
    }
    if (endRow.children.length) body.append(endRow);
    return body;
  }, { className: 'wide', focusField: false });
  dlg.addEventListener('close', () => stopFollowing());
}

// isBlocked asks the server whether the user blocked userId: their blocked
// list, read from just before userId, starts with them or they are not on it.
async function isBlocked(userId) {
  const { blocked } = await api('GET', `/me/blocked?after=${userId - 1}&limit=1`);
  return blocked.length > 0 && blocked[0].user_id === userId;
}

// blockSection blocks the person from messaging the user in private, or
// lifts it. Whether they are blocked comes from the server, so a block made
// on another device shows here too.
function blockSection(userId, name) {
  const text = h('p', { class: 'muted' });
  const btn = h('button', { type: 'button', class: 'btn', 'data-action': 'block', disabled: true });
  let blocked = false;
  const render = () => {
    text.textContent = blocked ? t('block.blocked_text', { name }) : t('block.text', { name });
    btn.textContent = blocked ? t('block.unblock') : t('block.block');
    btn.classList.toggle('danger', !blocked);
  };
  btn.addEventListener('click', async () => {
    if (!blocked && !await confirmDialog(t('block.block'), t('block.confirm', { name }), t('block.block'), { danger: true })) return;
    btn.disabled = true;
    try {
      await api(blocked ? 'DELETE' : 'PUT', `/users/${userId}/block`);
      blocked = !blocked;
      render();
      toast(blocked ? t('block.done', { name }) : t('block.unblocked', { name }));
    } catch (err) {
      toast(errorText(err), { error: true });
    } finally {
      btn.disabled = false;
      btn.focus();
    }
  });
  render();
  isBlocked(userId).then((b) => { blocked = b; render(); })
    .catch((err) => toast(errorText(err), { error: true }))
    .finally(() => { btn.disabled = false; });
  return h('section', { class: 'info-section block-section' }, text, h('div', { class: 'actions start' }, btn));
}

// peerInfoDialog shows a person (the other one of a private chat, or a
// member or sender in a group): their name and @username, and what the
// user can do about them: write to them in private (when not already
// there), start an end-to-end encrypted secret chat, block them, and
// report them.
export function peerInfoDialog(userId) {
  const u = store.users.get(userId);
  const name = userName(userId);
  const self = userId === store.me.id;
  const privateOpen = [...store.dialogs.values()].some((d) => d.chat.kind === 'private' && d.chat.peer_id === userId &&
    store.openChat === d.chat.id);
  openDialog(name, (close) => h('div', { class: 'modal-body info' },
    h('div', { class: 'info-head' }, avatar(name, userId),
      h('div', {},
        h('p', { class: 'info-title', dir: 'auto' }, name),
        u && u.username ? h('p', { class: 'muted' }, h('bdi', {}, `@${u.username}`)) : null)),
    !self && !privateOpen ? h('div', { class: 'actions start' }, h('button', {
      type: 'button', class: 'btn primary', 'data-action': 'private-chat',
      onclick: async (e) => {
        e.currentTarget.disabled = true;
        try {
          const chat = await api('PUT', `/users/${userId}/chat`);
          putChat(chat);
          // The group's info, if the person was picked from its members, too.
          for (const d of document.querySelectorAll('dialog[open]')) d.close();
          navigate(`/chats/${chat.id}`);
        } catch (err) {
          e.currentTarget.disabled = false;
          toast(errorText(err), { error: true });
        }
      },
    }, t('peer.message'))) : null,
    !self ? h('section', { class: 'info-section' },
      h('p', { class: 'muted' }, t('secret.start_text')),
      h('div', { class: 'actions start' }, h('button', {
        type: 'button', class: 'btn', 'data-action': 'secret-chat',
        onclick: () => { close(); openSecretChat(userId); },
      }, icon('lock'), t('secret.start')))) : null,
    !self ? blockSection(userId, name) : null,
    !self ? h('div', { class: 'actions leave' }, h('button', {
      type: 'button', class: 'btn danger', 'data-action': 'report-user',
      onclick: () => {
        close();
        reportDialog({ kind: 'user', user_id: userId }, { title: t('report.title_user'), what: name });
      },
    }, t('report.action'))) : null), { focusField: false });
}
