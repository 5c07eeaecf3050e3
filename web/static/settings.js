// Settings: the account (its display name, password and deletion), the
// country it declares, the language, the way to the moderators' decisions
// and the user's reports, the disclosures of the user's data to
// authorities, the devices logged in (each can be logged out) and logging
// out of this one.
import { api, errorText, ApiError } from './api.js';
import { t } from './i18n.js';
import {
  h, replace, formatDateTime, confirmDialog, toast, icon, field, showError, openDialog,
} from './dom.js';
import { store, rememberUser } from './store.js';
import { languagePicker } from './auth.js';
import { isStaff, isLegalTeam } from './roles.js';
import { countrySection } from './jurisdiction.js';
import { disclosuresSection } from './disclosures.js';
import { notificationsOn, notificationsSupported, setNotifications } from './notify.js';
import { decisionsBadge } from './decisions.js';

// form is a settings form: act(values, form) runs on submit, its error is
// shown beside the field at fault (or under the form), and what it returns
// is said in a toast.
function form(cls, fields, submitLabel, act, { danger = false } = {}) {
  const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: danger ? 'btn danger' : 'btn' }, submitLabel);
  const el = h('form', { class: `stack ${cls}`, novalidate: true }, ...fields, box, h('div', { class: 'actions start' }, submit));
  el.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    try {
      const done = await act(Object.fromEntries(new FormData(el)), el);
      showError(el, box, null, '');
      if (done) toast(done);
    } catch (err) {
      showError(el, box, err, errorText(err));
    } finally {
      submit.disabled = false;
      submit.removeAttribute('aria-busy');
    }
  });
  return el;
}

// profileSection shows the @username (which is for good) and changes the
// display name others see.
function profileSection(me) {
  return h('section', { 'aria-labelledby': 'profile-title' },
    h('h3', { id: 'profile-title' }, t('settings.account')),
    h('dl', { class: 'facts' }, h('dt', {}, t('auth.username')), h('dd', {}, h('bdi', {}, `@${me.username}`))),
    form('profile-form', [
      field(t('auth.display_name'), { name: 'display_name', value: me.display_name || '', maxlength: '64', autocomplete: 'nickname', dir: 'auto', hint: t('settings.display_name_hint') }),
    ], t('common.save'), async (v) => {
      const updated = await api('PATCH', '/me', { display_name: v.display_name.trim() });
      Object.assign(store.me, updated);
      rememberUser({ id: updated.id, username: updated.username, display_name: updated.display_name });
      return t('settings.profile_saved');
    }));
}

// passwordSection changes the password; the server then logs out every
// other device, which the form says before and after.
function passwordSection(reload) {
  return h('section', { 'aria-labelledby': 'password-title' },
    h('h3', { id: 'password-title' }, t('settings.password')),
    h('p', { class: 'muted' }, t('settings.password_text')),
    form('password-form', [
      field(t('settings.password_current'), { name: 'current_password', type: 'password', autocomplete: 'current-password' }),
      field(t('settings.password_new'), { name: 'new_password', type: 'password', autocomplete: 'new-password', hint: t('auth.password_hint') }),
    ], t('settings.password_change'), async (v, el) => {
      if (!v.current_password) throw new ApiError({ field: 'current_password', detail: t('auth.fill_in') });
      if (!v.new_password) throw new ApiError({ field: 'new_password', detail: t('auth.fill_in') });
      await api('POST', '/me/password', v);
      el.reset();
      reload(); // the other devices are gone from the list
      return t('settings.password_changed');
    }));
}

// twoFactorSection sets up an authenticator app (a second factor) or turns
// it off. The secret is shown once, as an otpauth:// link for a phone and as
// text to type in, and a first code confirms it; turning it off asks for the
// password and a code, so that an open session alone cannot do it. Staff
// need it for their tools.
function twoFactorSection(me) {
  const body = h('div', { class: 'stack' });
  const codeField = () => field(t('auth.totp'), { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '7', hint: t('auth.totp_hint') });
  const need = (v, name) => { if (!v[name]) throw new ApiError({ field: name, detail: t('auth.fill_in') }); };
  function render() {
    if (me.totp_enabled) {
      replace(body,
        h('p', { class: 'totp-status' }, t('settings.totp_on')),
        form('totp-disable-form', [
          field(t('auth.password'), { name: 'password', type: 'password', autocomplete: 'current-password' }),
          codeField(),
        ], t('settings.totp_disable'), async (v) => {
          need(v, 'password');
          need(v, 'code');
          await api('POST', '/me/totp/disable', { password: v.password, code: v.code.trim() });
          me.totp_enabled = false;
          render();
          return t('settings.totp_disabled');
        }, { danger: true }));
      return;
    }
    const start = h('button', { type: 'button', class: 'btn totp-start' }, t('settings.totp_start'));
    const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
    start.addEventListener('click', async () => {
      start.disabled = true;
      try {
        const e = await api('POST', '/me/totp');
        replace(body,
          h('p', {}, t('settings.totp_scan')),
          h('p', {}, h('a', { href: e.uri, class: 'totp-uri' }, t('settings.totp_link'))),
          h('p', {}, t('settings.totp_secret'), ' ', h('code', { class: 'totp-secret', dir: 'ltr' }, e.secret.replace(/(.{4})(?=.)/g, '$1 '))),
          form('totp-confirm-form', [codeField()], t('settings.totp_confirm'), async (v) => {
            need(v, 'code');
            await api('POST', '/me/totp/confirm', { code: v.code.trim() });
            me.totp_enabled = true;
            render();
            return t('settings.totp_enabled');
          }));
      } catch (err) {
        box.textContent = errorText(err);
        box.hidden = false;
        start.disabled = false;
      }
    });
    replace(body,
      h('p', { class: 'totp-status' }, t('settings.totp_off')),
      isStaff(me.role) || isLegalTeam(me.role) ? h('p', { class: 'warning' }, t('settings.totp_staff')) : null,
      box,
      h('div', { class: 'actions start' }, start));
  }
  render();
  return h('section', { 'aria-labelledby': 'totp-title' },
    h('h3', { id: 'totp-title' }, t('settings.totp_title')),
    h('p', { class: 'muted' }, t('settings.totp_text')),
    body);
}

// deleteSection deletes the account after a grace period, asking for the
// password again in a dialog that says what happens; every device, this
// one too, is then logged out.
function deleteSection(loggedOut) {
  const open = () => openDialog(t('settings.delete_title'), (close) => h('div', { class: 'modal-body' },
    h('p', {}, t('settings.delete_text')),
    form('delete-form', [
      field(t('auth.password'), { name: 'password', type: 'password', autocomplete: 'current-password' }),
    ], t('settings.delete_confirm'), async (v) => {
      if (!v.password) throw new ApiError({ field: 'password', detail: t('auth.fill_in') });
      const r = await api('POST', '/me/deletion', { password: v.password });
      close();
      toast(t('settings.delete_done', { date: formatDateTime(r.scheduled_at) }));
      loggedOut();
      return '';
    }, { danger: true })));
  return h('section', { 'aria-labelledby': 'delete-title' },
    h('h3', { id: 'delete-title' }, t('settings.delete_title')),
    h('p', { class: 'muted' }, t('settings.delete_intro')),
    h('div', { class: 'actions start' }, h('button', { type: 'button', class: 'btn danger delete-account', onclick: open }, t('settings.delete'))));
}

// notificationsSection turns desktop notifications of new messages on or
// off; turning them on is what asks the browser's permission.
function notificationsSection() {
  const status = h('p', { class: 'hint', id: 'notify-status', 'aria-live': 'polite' });
  const box = h('input', { type: 'checkbox', id: 'notify-toggle', 'aria-describedby': 'notify-status' });
  box.checked = notificationsOn();
  box.disabled = !notificationsSupported();
  const say = () => {
    if (!notificationsSupported()) status.textContent = t('settings.notify_unsupported');
    else if (Notification.permission === 'denied') status.textContent = t('settings.notify_denied');
    else status.textContent = t('settings.notify_hint');
  };
  box.addEventListener('change', async () => {
    box.checked = await setNotifications(box.checked);
    say();
  });
  say();
  return h('section', { 'aria-labelledby': 'notify-title' },
    h('h3', { id: 'notify-title' }, t('settings.notify_title')),
    h('div', { class: 'check-row' }, box, h('label', { for: 'notify-toggle' }, t('settings.notify_label'))),
    status);
}

// settingsScreen is the settings page. logout logs this device out;
// loggedOut forgets the session here when the server already ended it.

// decisionsLink opens the user's reports and decisions, with the count of
// decisions about them that are news.
function decisionsLink() {
  const a = h('a', { href: '/settings/decisions', class: 'btn decisions-link' }, t('decisions.open'));
  a.append(decisionsBadge((n) => {
    if (n) a.setAttribute('aria-label', `${t('decisions.open')}: ${t('decisions.unseen', { count: n })}`);
    else a.removeAttribute('aria-label');
  }));
  return a;
}
export function settingsScreen({ logout, loggedOut }) {
  const devices = h('ul', { class: 'devices', 'aria-labelledby': 'devices-title' });
  const status = h('p', { class: 'muted', 'aria-live': 'polite' }, t('settings.loading'));
  const me = store.me;
  const el = h('section', { class: 'settings', 'aria-labelledby': 'settings-title' },
    h('header', { class: 'conv-head' },
      h('a', { href: '/', class: 'icon-btn back', 'aria-label': t('conv.back'), title: t('conv.back') }, icon('back')),
      h('h2', { id: 'settings-title', tabindex: '-1' }, t('settings.title'))),
    h('div', { class: 'settings-body' },
      profileSection(me),
      passwordSection(() => load()),
      twoFactorSection(me),
      countrySection(),
      h('section', { 'aria-labelledby': 'lang-title' },
        languagePicker({ heading: true })),
      notificationsSection(),
      h('section', { 'aria-labelledby': 'decisions-link-title' },
        h('h3', { id: 'decisions-link-title' }, t('decisions.title')),
        h('p', { class: 'muted' }, t('decisions.settings_text')),
        h('div', { class: 'actions start' }, decisionsLink())),
      disclosuresSection(),
      h('section', { 'aria-labelledby': 'devices-title' },
        h('h3', { id: 'devices-title' }, t('settings.devices')),
        h('p', { class: 'muted' }, t('settings.devices_text')),
        status, devices),
      isStaff(me.role) || isLegalTeam(me.role) ? h('section', { 'aria-labelledby': 'console-link-title' },
        h('h3', { id: 'console-link-title' }, t('console.title')),
        h('p', { class: 'muted' }, t('console.settings_text')),
        h('div', { class: 'actions start' }, h('a', { href: '/console', class: 'btn' }, t('console.open')))) : null,
      deleteSection(loggedOut),
      h('div', { class: 'actions start' },
        h('button', { type: 'button', class: 'btn danger', onclick: logout }, t('settings.logout')))));

  async function load() {
    try {
      const r = await api('GET', '/sessions');
      status.hidden = true;
      replace(devices, ...r.sessions.map(device));
    } catch (err) {
      status.hidden = false;
      status.textContent = errorText(err);
    }
  }

  function device(s) {
    const revoke = s.current ? h('span', { class: 'tag' }, t('settings.this_device')) : h('button', {
      type: 'button', class: 'btn small danger',
      'aria-label': t('settings.revoke_named', { name: s.device_name || t('settings.unnamed') }),
      onclick: async () => {
        if (!await confirmDialog(t('settings.revoke'), t('settings.revoke_confirm', { name: s.device_name || t('settings.unnamed') }), t('settings.revoke'), { danger: true })) return;
        try {
          await api('DELETE', `/sessions/${s.id}`);
          toast(t('settings.revoked'));
          load();
        } catch (err) {
          toast(errorText(err), { error: true });
        }
      },
    }, t('settings.revoke'));
    return h('li', { class: 'device' },
      h('div', {},
        h('p', { class: 'device-name' }, s.device_name || t('settings.unnamed')),
        h('p', { class: 'muted' }, t('settings.device_seen', { ip: s.ip || '?', when: formatDateTime(s.last_seen_at) }))),
      revoke);
  }

  load();
  return { el, focus: () => el.querySelector('h2').focus() };
}
