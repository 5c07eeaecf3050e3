// Logging in, signing up and joining by invite link.
import { api, setToken, errorText } from './api.js';
import { t, languages, language, setLanguage } from './i18n.js';
import { h, replace, field, showError } from './dom.js';
import { putChat } from './store.js';
import { navigate } from './nav.js';
import { countryField, isWithheld, withheldFound } from './jurisdiction.js';

// languagePicker is a labelled <select> that switches and saves the language.
// With heading, its label is a section heading.
export function languagePicker({ heading = false } = {}) {
  const id = `lang-${Math.random().toString(36).slice(2, 7)}`;
  const sel = h('select', { id, name: 'language', onchange: () => setLanguage(sel.value, true) },
    languages.map((l) => h('option', { value: l.code, lang: l.code, selected: l.code === language() }, l.name)));
  const label = h('label', { for: id }, t('settings.language'));
  return h('div', { class: 'field lang-picker' }, heading ? h('h3', {}, label) : label, sel);
}

// deviceName describes this browser for the list of devices, e.g. "Firefox on Linux".
function deviceName() {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? 'Edge' : /OPR\//.test(ua) ? 'Opera' : /Firefox\//.test(ua) ? 'Firefox'
    : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : t('device.browser');
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Windows/.test(ua) ? 'Windows'
    : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : t('device.os');
  return t('device.name', { browser, os });
}

// login opens a session; totp is the authenticator app's code, which the
// server asks for (totp_required) once the account has one.
async function login(username, password, restricted = false, totp = '') {
  const body = { username, password, device_name: deviceName(), restricted };
  if (totp) body.totp = totp;
  const r = await api('POST', '/sessions', body);
  setToken(r.token);
}

// authScreen is the login or sign-up form; onLoggedIn runs once a token is saved.
export function authScreen(mode, { onLoggedIn }) {
  const signup = mode === 'signup';
  const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn primary wide' }, signup ? t('auth.signup') : t('auth.login'));
  // The authenticator code, asked for only when the server says the
  // account needs one.
  const code = field(t('auth.totp'), { name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '7', hint: t('auth.totp_hint') });
  code.hidden = true;
  const form = h('form', { class: 'stack', novalidate: true },
    field(t('auth.username'), { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false', maxlength: '32', hint: signup ? t('auth.username_hint') : null }),
    signup ? field(t('auth.display_name'), { name: 'display_name', autocomplete: 'nickname', maxlength: '64', hint: t('auth.display_name_hint') }) : null,
    signup ? countryField() : null,
    field(t('auth.password'), { name: 'password', type: 'password', autocomplete: signup ? 'new-password' : 'current-password', required: true, hint: signup ? t('auth.password_hint') : null }),
    code,
    box,
    submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = Object.fromEntries(new FormData(form));
    if (!v.username.trim() || !v.password) {
      showError(form, box, { field: v.username.trim() ? 'password' : 'username' }, t('auth.fill_in'));
      return;
    }
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    try {
      if (signup) {
        const body = { username: v.username.trim(), password: v.password };
        if (v.display_name.trim()) body.display_name = v.display_name.trim();
        if (v.country) body.country = v.country;
        await api('POST', '/accounts', body);
      }
      await login(v.username.trim(), v.password, false, code.hidden ? '' : (v.totp || '').trim());
      onLoggedIn();
    } catch (err) {
      if (err.reason === 'totp_required' || err.reason === 'totp_invalid') {
        code.hidden = false;
        showError(form, box, err, err.reason === 'totp_required' ? t('auth.totp_required') : t('auth.totp_invalid'));
        return;
      }
      showError(form, box, err, errorText(err));
      if (err.reason === 'account_suspended' || err.reason === 'account_banned') {
        // The account may still read the decision about it and appeal.
        box.append(' ', h('button', {
          type: 'button', class: 'btn restricted-login',
          onclick: async () => {
            try {
              await login(v.username.trim(), v.password, true, code.hidden ? '' : (v.totp || '').trim());
              onLoggedIn();
            } catch (e2) {
              showError(form, box, e2, errorText(e2));
            }
          },
        }, t('mod.restricted_login')));
      }
    } finally {
      submit.disabled = false;
      submit.removeAttribute('aria-busy');
    }
  });
  const next = location.search;
  return h('div', { class: 'auth' },
    h('section', { class: 'card', 'aria-labelledby': 'auth-title' },
      h('p', { class: 'brand', 'aria-hidden': 'true' }, 'kurir'),
      h('h1', { id: 'auth-title' }, signup ? t('auth.signup_title') : t('auth.login_title')),
      h('p', { class: 'muted' }, t('auth.tagline')),
      form,
      h('p', { class: 'switch' }, signup ? t('auth.have_account') : t('auth.no_account'), ' ',
        h('a', { href: (signup ? '/login' : '/signup') + next }, signup ? t('auth.login') : t('auth.signup'))),
      languagePicker(),
      // The public notice form, for people without an account (EU DSA Art. 16).
      h('p', { class: 'auth-foot' }, h('a', { href: '/notices' }, t('notice.login_link')))));
}

// publicChatScreen opens the public group or channel a shared link
// (/c/{name}) names, where the person can read it and join.
export function publicChatScreen(name) {
  const box = h('p', { role: 'status' }, t('app.loading'));
  const el = h('section', { class: 'card center', 'aria-labelledby': 'public-title' },
    h('h2', { id: 'public-title' }, h('bdi', {}, `@${name}`)), box,
    h('div', { class: 'actions' }, h('a', { class: 'btn', href: '/' }, t('conv.back'))));
  let left = false;
  (async () => {
    try {
      const chat = await api('GET', `/public-chats/${encodeURIComponent(name)}`);
      if (!left) navigate(`/chats/${chat.id}`, { replace: true });
    } catch (err) {
      if (left) return;
      box.setAttribute('role', 'alert');
      if (isWithheld(err)) replace(box, withheldFound(err));
      else box.textContent = err.status === 404 ? t('public.none', { name }) : errorText(err);
    }
  })();
  return { el, leave: () => { left = true; } };
}

// joinScreen offers to join the chat an invite link points to.
export function joinScreen(code) {
  const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const join = h('button', { type: 'button', class: 'btn primary' }, t('join.join'));
  join.addEventListener('click', async () => {
    join.disabled = true;
    try {
      const chat = await api('POST', `/invites/${encodeURIComponent(code)}/join`);
      putChat(chat);
      navigate(`/chats/${chat.id}`, { replace: true });
    } catch (err) {
      if (isWithheld(err)) replace(box, withheldFound(err));
      else box.textContent = errorText(err);
      box.hidden = false;
      join.disabled = false;
    }
  });
  const el = h('section', { class: 'card center', 'aria-labelledby': 'join-title' },
    h('h2', { id: 'join-title' }, t('join.title')),
    h('p', {}, t('join.text')),
    box,
    h('div', { class: 'actions' }, h('a', { class: 'btn', href: '/' }, t('common.cancel')), join));
  return { el, focus: () => join.focus() };
}
