// The law-enforcement portal at /legal: officers of agencies the operator
// registered sign up with an address at their agency's domain, verify it
// with a code sent by e-mail, log in, set up an authenticator app and
// attest to their official capacity; then they file requests, follow them
// and download what is disclosed. It needs no kurir account: the officer's
// session token is kept in this tab's sessionStorage under a key of its
// own and sent only to /api/v1/legal, never the user's.
//
// Paths: /legal (the requests, or the step of setup that is due),
// /legal/signup, /legal/verify, /legal/login, /legal/new (file a request)
// and /legal/requests/{id}.
import { api, blobURL, errorText, ApiError } from './api.js';
import { t, language } from './i18n.js';
import { h, replace, field, showError, toast, formatDateTime, openDialog } from './dom.js';
import { languagePicker } from './auth.js';
import { navigate } from './nav.js';
import {
  kindLabel, stateTag, isOpen, dataKinds, categoryList, requestFacts, targetList, timelineList, documentList, loadLegalStyles,
} from './legal-labels.js';
import { requestForm, documentPicker, attachAll, forgetDraft } from './legal-form.js';

const tokenKey = 'kurir.legal.token';
const refreshEvery = 15000;

function officerToken() {
  return sessionStorage.getItem(tokenKey) || '';
}

function setOfficerToken(v) {
  if (v) sessionStorage.setItem(tokenKey, v);
  else sessionStorage.removeItem(tokenKey);
}

// ended is set when the server stopped taking the officer's token, for the
// login form to say so.
let ended = false;

// call makes a request to /api/v1/legal+path with the officer's token. A
// token the server no longer takes is forgotten, and the officer asked to
// log in again.
async function call(method, path, body) {
  const had = officerToken();
  try {
    return await api(method, `/legal${path}`, body, { bearer: had });
  } catch (err) {
    if (err.status === 401 && had && officerToken() === had) {
      setOfficerToken('');
      ended = true;
      navigate('/legal/login', { replace: true });
    }
    throw err;
  }
}

// totpSetup is the authenticator secret being set up, kept while the page
// is drawn again so that the key the officer typed in stays the one shown.
let totpSetup = null; // {token, secret, uri}

// portalScreen is the portal at path: {el, leave}.
export function portalScreen(path) {
  const main = h('main', { id: 'main', class: 'portal-main', tabindex: '-1' }, h('p', { class: 'loading' }, t('app.loading')));
  const who = h('div', { class: 'portal-who' });
  const el = h('div', { class: 'portal', hidden: true },
    h('header', { class: 'portal-head' },
      h('p', { class: 'portal-brand' }, h('span', { class: 'portal-logo' }, 'kurir'), h('span', {}, t('legal.portal'))),
      who,
      languagePicker()),
    main);
  let view = null;
  let closed = false;
  document.title = t('app.title_chat', { title: t('legal.portal') });

  function show(v) {
    if (closed) return;
    view = v;
    replace(main, v.el);
    const first = main.querySelector('h1');
    if (first) { first.tabIndex = -1; first.focus(); }
  }

  (async () => {
    await loadLegalStyles();
    if (closed) return;
    el.hidden = false;
    const q = new URLSearchParams(location.search);
    if (path === '/legal/signup') return show(signupView());
    if (path === '/legal/verify') return show(verifyView(q.get('email') || '', q.get('unsent') === '1'));
    if (path === '/legal/login' || !officerToken()) {
      if (path !== '/legal/login') history.replaceState(null, '', '/legal/login');
      return show(loginView(q.get('email') || '', q.get('verified') === '1'));
    }
    let me;
    try {
      me = await call('GET', '/me');
    } catch (err) {
      if (closed || err.status === 401) return;
      return show(problem(t('legal.unavailable'), errorText(err)));
    }
    if (closed) return;
    replace(who,
      h('span', { class: 'portal-officer' }, h('bdi', {}, me.officer.name), h('span', { class: 'muted' }, me.officer.email)),
      h('button', { type: 'button', class: 'btn small portal-logout', onclick: logout }, t('legal.logout')));
    if (me.next_step === 'totp') {
      history.replaceState(null, '', '/legal');
      return show(totpView());
    }
    if (me.next_step === 'login_with_totp') {
      setOfficerToken('');
      ended = true;
      return navigate('/legal/login', { replace: true });
    }
    if (me.next_step === 'attestation') {
      history.replaceState(null, '', '/legal');
      return show(attestView());
    }
    let m;
    if (path === '/legal' || path === '/legal/' || path === '/legal/requests') show(listView());
    else if (path === '/legal/new') show(newView());
    else if ((m = path.match(/^\/legal\/requests\/(\d+)\/?$/))) show(requestView(Number(m[1])));
    else show(problem(t('legal.not_found'), t('legal.not_found_text')));
  })();

  return {
    el,
    leave: () => {
      closed = true;
      if (view && view.leave) view.leave();
      document.title = t('app.title');
    },
  };
}

async function logout() {
  try {
    await call('DELETE', '/sessions/current');
  } catch {
    // Logged out here all the same; the session expires on its own.
  }
  setOfficerToken('');
  totpSetup = null;
  forgetDraft();
  navigate('/legal/login', { replace: true });
}

function problem(title, text) {
  return {
    el: h('section', { class: 'card le-card', 'aria-labelledby': 'le-problem-title' },
      h('h1', { id: 'le-problem-title' }, title),
      h('p', { role: 'alert' }, text),
      h('a', { href: '/legal', class: 'btn' }, t('legal.to_requests'))),
  };
}

function errorBox() {
  return h('p', { class: 'form-error', role: 'alert', hidden: true });
}

// busy disables button while fn runs.
async function busy(button, fn) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

// Signing up, verifying and logging in -------------------------------------

function card(titleId, title, ...content) {
  return h('section', { class: 'card le-card', 'aria-labelledby': titleId },
    h('h1', { id: titleId }, title),
    ...content);
}

function signupView() {
  const box = errorBox();
  const submit = h('button', { type: 'submit', class: 'btn primary wide' }, t('legal.signup'));
  const form = h('form', { class: 'stack', novalidate: true },
    field(t('legal.email'), { name: 'email', type: 'email', autocomplete: 'email', required: true, spellcheck: 'false', autocapitalize: 'none', dir: 'ltr', maxlength: '254', hint: t('legal.email_hint') }),
    field(t('legal.name'), { name: 'name', autocomplete: 'name', required: true, maxlength: '200', dir: 'auto' }),
    field(t('legal.badge'), { name: 'badge', autocomplete: 'off', maxlength: '100', dir: 'auto', hint: t('legal.badge_hint') }),
    field(t('auth.password'), { name: 'password', type: 'password', autocomplete: 'new-password', required: true, hint: t('auth.password_hint') }),
    box, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = Object.fromEntries(new FormData(form));
    const email = v.email.trim();
    for (const name of ['email', 'name', 'password']) {
      if (!String(v[name]).trim()) {
        showError(form, box, { field: name }, t('auth.fill_in'));
        return;
      }
    }
    await busy(submit, async () => {
      try {
        await call('POST', '/officers', { email, name: v.name.trim(), badge: v.badge.trim() || undefined, password: v.password, lang: language() });
        navigate(`/legal/verify?email=${encodeURIComponent(email)}`);
      } catch (err) {
        // The officer is signed up but the code did not go out: the next
        // step offers a new one.
        if (err.reason === 'mail_failed') navigate(`/legal/verify?email=${encodeURIComponent(email)}&unsent=1`);
        else showError(form, box, err, errorText(err));
      }
    });
  });
  return {
    el: card('le-signup-title', t('legal.signup_title'),
      h('p', { class: 'muted' }, t('legal.signup_text')),
      form,
      h('p', { class: 'switch' }, t('legal.have_account'), ' ', h('a', { href: '/legal/login' }, t('legal.login')))),
  };
}

function verifyView(email, unsent) {
  const box = errorBox();
  const status = h('p', { class: 'le-status', role: 'status' });
  const submit = h('button', { type: 'submit', class: 'btn primary wide' }, t('legal.verify'));
  const form = h('form', { class: 'stack', novalidate: true },
    field(t('legal.email'), { name: 'email', type: 'email', autocomplete: 'email', required: true, spellcheck: 'false', autocapitalize: 'none', dir: 'ltr', value: email }),
    field(t('auth.password'), { name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    field(t('legal.code'), { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: '7', dir: 'ltr', class: 'le-code', hint: t('legal.code_hint') }),
    box, submit);
  const resend = h('button', { type: 'button', class: 'btn le-resend' }, t('legal.resend'));
  resend.addEventListener('click', () => busy(resend, async () => {
    const to = form.elements.email.value.trim();
    if (!to) {
      showError(form, box, { field: 'email' }, t('auth.fill_in'));
      return;
    }
    try {
      await call('POST', '/officers/code', { email: to });
      showError(form, box, null, '');
      status.textContent = t('legal.resent', { email: to });
    } catch (err) {
      status.textContent = '';
      showError(form, box, err, errorText(err));
    }
  }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const to = form.elements.email.value.trim();
    const code = form.elements.code.value.replace(/\s/g, '');
    const password = form.elements.password.value;
    if (!to || !password || !code) {
      showError(form, box, { field: !to ? 'email' : !password ? 'password' : 'code' }, t('auth.fill_in'));
      return;
    }
    await busy(submit, async () => {
      try {
        // The password of the sign-up proves that whoever verifies is who
        // signed the address up.
        await call('POST', '/officers/verify', { email: to, password, code });
        navigate(`/legal/login?email=${encodeURIComponent(to)}&verified=1`);
      } catch (err) {
        showError(form, box, err, errorText(err));
      }
    });
  });
  if (unsent) status.textContent = t('legal.unsent');
  return {
    el: card('le-verify-title', t('legal.verify_title'),
      h('p', {}, email ? t('legal.verify_text', { email }) : t('legal.verify_text_any')),
      form,
      h('div', { class: 'le-resend-row' }, h('p', { class: 'muted' }, t('legal.no_code')), resend),
      status,
      h('p', { class: 'switch' }, h('a', { href: '/legal/login' }, t('legal.login')))),
  };
}

function loginView(email, verified) {
  const box = errorBox();
  const submit = h('button', { type: 'submit', class: 'btn primary wide' }, t('legal.login'));
  const form = h('form', { class: 'stack', novalidate: true },
    field(t('legal.email'), { name: 'email', type: 'email', autocomplete: 'username', required: true, spellcheck: 'false', autocapitalize: 'none', dir: 'ltr', value: email }),
    field(t('auth.password'), { name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    field(t('legal.totp'), { name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '7', dir: 'ltr', class: 'le-code', hint: t('legal.totp_hint') }),
    box, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = Object.fromEntries(new FormData(form));
    if (!v.email.trim() || !v.password) {
      showError(form, box, { field: v.email.trim() ? 'password' : 'email' }, t('auth.fill_in'));
      return;
    }
    await busy(submit, async () => {
      try {
        const r = await call('POST', '/sessions', { email: v.email.trim(), password: v.password, totp: v.totp.replace(/\s/g, '') || undefined });
        setOfficerToken(r.token);
        ended = false;
        navigate('/legal', { replace: true });
      } catch (err) {
        const totp = err.reason === 'totp_required' || err.reason === 'totp_invalid';
        showError(form, box, totp && !err.field ? Object.assign(new ApiError(err), { field: 'totp' }) : err, errorText(err));
      }
    });
  });
  const notice = verified ? h('p', { class: 'le-ok', role: 'status' }, t('legal.verified'))
    : ended ? h('p', { class: 'le-warn', role: 'status' }, t('legal.session_ended')) : null;
  return {
    el: card('le-login-title', t('legal.login_title'),
      h('p', { class: 'muted' }, t('legal.login_text')),
      notice,
      form,
      h('p', { class: 'switch' }, t('legal.new_here'), ' ', h('a', { href: '/legal/signup' }, t('legal.signup'))),
      h('p', { class: 'switch' }, h('a', { href: '/legal/verify' }, t('legal.have_code')))),
  };
}

// Setup: the authenticator and the attestation ------------------------------

function steps(current) {
  const names = [t('legal.step_email'), t('legal.step_totp'), t('legal.step_attest')];
  return h('ol', { class: 'le-steps', 'aria-label': t('legal.steps') }, names.map((name, i) => h('li', {
    class: i < current ? 'done' : i === current ? 'current' : null, 'aria-current': i === current ? 'step' : null,
  }, name)));
}

// grouped writes a secret in blocks of four, for typing in.
function grouped(secret) {
  return secret.replace(/\s/g, '').match(/.{1,4}/g).join(' ');
}

function totpView() {
  const box = errorBox();
  const secretEl = h('code', { class: 'le-secret', dir: 'ltr' }, '…');
  const uriLink = h('a', { class: 'le-uri', hidden: true }, t('legal.totp_open'));
  const submit = h('button', { type: 'submit', class: 'btn primary' }, t('legal.totp_confirm'));
  const form = h('form', { class: 'stack', novalidate: true },
    field(t('legal.totp'), { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: '7', dir: 'ltr', class: 'le-code', hint: t('legal.totp_confirm_hint') }),
    box,
    h('div', { class: 'actions start' }, submit));
  (async () => {
    const tok = officerToken();
    try {
      if (!totpSetup || totpSetup.token !== tok) totpSetup = { token: tok, ...await call('POST', '/me/totp') };
      secretEl.textContent = grouped(totpSetup.secret);
      secretEl.setAttribute('aria-label', totpSetup.secret.split('').join(' '));
      uriLink.href = totpSetup.uri;
      uriLink.hidden = false;
    } catch (err) {
      secretEl.textContent = '';
      showError(form, box, null, errorText(err));
    }
  })();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const code = form.elements.code.value.replace(/\s/g, '');
    if (!code) {
      showError(form, box, { field: 'code' }, t('auth.fill_in'));
      return;
    }
    await busy(submit, async () => {
      try {
        await call('POST', '/me/totp/confirm', { code });
        totpSetup = null;
        navigate('/legal', { replace: true });
      } catch (err) {
        showError(form, box, err, errorText(err));
      }
    });
  });
  return {
    el: h('section', { class: 'card le-card wide', 'aria-labelledby': 'le-totp-title' },
      steps(1),
      h('h1', { id: 'le-totp-title' }, t('legal.totp_title')),
      h('p', {}, t('legal.totp_text')),
      h('div', { class: 'le-key' },
        h('p', { class: 'le-key-label' }, t('legal.totp_key')),
        secretEl,
        h('p', { class: 'hint' }, t('legal.totp_key_hint')),
        uriLink),
      form),
  };
}

function attestView() {
  const box = errorBox();
  const text = h('blockquote', { class: 'le-attestation', lang: 'en', dir: 'ltr' }, '…');
  const yes = h('button', { type: 'button', class: 'btn primary le-attest', disabled: true }, t('legal.attest'));
  let statement = '';
  (async () => {
    try {
      statement = (await call('GET', '/attestation')).text;
      text.textContent = statement;
      yes.disabled = false;
    } catch (err) {
      replace(box, errorText(err));
      box.hidden = false;
    }
  })();
  yes.addEventListener('click', () => busy(yes, async () => {
    try {
      await call('POST', '/me/attestation', { statement });
      navigate('/legal', { replace: true });
    } catch (err) {
      replace(box, errorText(err));
      box.hidden = false;
    }
  }));
  return {
    el: h('section', { class: 'card le-card wide', 'aria-labelledby': 'le-attest-title' },
      steps(2),
      h('h1', { id: 'le-attest-title' }, t('legal.attest_title')),
      h('p', {}, t('legal.attest_text')),
      text,
      h('p', { class: 'muted' }, t('legal.attest_recorded')),
      box,
      h('div', { class: 'actions start' }, yes)),
  };
}

// Requests --------------------------------------------------------------------

function listView() {
  const status = h('p', { class: 'muted', role: 'status' }, t('legal.loading'));
  const list = h('ul', { class: 'le-list' });
  let closed = false;
  (async () => {
    try {
      const r = await call('GET', '/requests');
      if (closed) return;
      status.textContent = r.requests.length ? '' : t('legal.no_requests');
      status.hidden = !!r.requests.length;
      replace(list, r.requests.map((q) => h('li', { class: `le-item${q.kind === 'emergency' && isOpen(q.state) ? ' emergency' : ''}` },
        h('div', { class: 'le-item-head' },
          h('a', { href: `/legal/requests/${q.id}`, class: 'le-number' }, q.number),
          stateTag(q.state),
          h('span', { class: 'le-kind' }, kindLabel(q.kind))),
        h('p', { class: 'muted' },
          h('bdi', { dir: 'auto' }, q.case_reference), ' · ',
          t('legal.received_at', { time: formatDateTime(q.received_at) }),
          isOpen(q.state) ? [' · ', t('legal.due_at', { time: formatDateTime(q.due_at) })] : null))));
    } catch (err) {
      if (closed) return;
      status.textContent = errorText(err);
    }
  })();
  return {
    el: h('section', { class: 'le-page', 'aria-labelledby': 'le-list-title' },
      h('div', { class: 'le-bar' },
        h('h1', { id: 'le-list-title' }, t('legal.requests_title')),
        h('a', { href: '/legal/new', class: 'btn primary le-new' }, t('legal.file'))),
      h('p', { class: 'muted' }, t('legal.requests_text')),
      status,
      list),
    leave: () => { closed = true; },
  };
}

function newView() {
  const result = h('div', { class: 'le-result', hidden: true, role: 'alert' });
  const { form } = requestForm({
    file: (body) => call('POST', '/requests', body),
    bearer: officerToken(),
    attached: (q, failed) => {
      if (!failed.length) {
        toast(t('legal.filed', { number: q.number }));
        navigate(`/legal/requests/${q.id}`);
        return;
      }
      replace(result,
        h('p', {}, t('legal.filed_docs_failed', { number: q.number })),
        h('ul', {}, failed.map(({ file, err }) => h('li', {}, h('bdi', { dir: 'auto' }, file.name), ': ', errorText(err)))),
        h('a', { href: `/legal/requests/${q.id}`, class: 'btn primary' }, t('legal.open_request', { number: q.number })));
      result.hidden = false;
      result.querySelector('a').focus();
    },
  });
  return {
    el: h('section', { class: 'le-page', 'aria-labelledby': 'le-new-title' },
      h('a', { href: '/legal', class: 'le-back' }, t('legal.to_requests')),
      h('h1', { id: 'le-new-title' }, t('legal.file')),
      h('p', { class: 'muted' }, t('legal.file_text')),
      h('div', { class: 'le-panel' }, form, result)),
  };
}

function requestView(id) {
  const title = h('h1', { id: 'le-req-title' }, t('legal.request_n', { id }));
  const tag = h('span');
  const body = h('div', { class: 'le-req-body' }, h('p', { class: 'loading' }, t('legal.loading')));
  const el = h('section', { class: 'le-page', 'aria-labelledby': 'le-req-title' },
    h('a', { href: '/legal', class: 'le-back' }, t('legal.to_requests')),
    h('div', { class: 'le-bar le-title-bar' }, title, tag),
    body);
  let d = null;
  let shown = '';
  let closed = false;
  let timer = 0;
  let key = null; // the public key, once fetched
  let verifyOpen = false; // the officer opened how to verify the package

  async function load() {
    try {
      const r = await call('GET', `/requests/${id}`);
      if (closed) return;
      const json = JSON.stringify(r);
      // Leave the page alone while the officer is writing or uploading.
      const active = document.activeElement;
      if (json === shown || document.querySelector('dialog[open]') || (d && active && body.contains(active) && active.closest('form'))) return;
      if (body.querySelector('.le-uploads:not([hidden])')) return;
      d = r;
      shown = json;
      render();
    } catch (err) {
      if (closed) return;
      if (!d) replace(body, h('p', { class: 'form-error', role: 'alert' }, errorText(err)));
    }
  }

  // render draws the request again, keeping what the officer typed.
  function render() {
    const kept = new Map();
    for (const f of body.querySelectorAll('form[data-form] textarea')) kept.set(`${f.form.dataset.form}/${f.name}`, f.value);
    draw();
    for (const f of body.querySelectorAll('form[data-form] textarea')) {
      const v = kept.get(`${f.form.dataset.form}/${f.name}`);
      if (v) f.value = v;
    }
  }

  function draw() {
    const q = d.request;
    title.textContent = q.number;
    replace(tag, stateTag(q.state));
    document.title = t('app.title_chat', { title: q.number });
    const hasPackage = q.state === 'fulfilled' && dataKinds.includes(q.kind) && q.approved_categories.length > 0;
    replace(body,
      q.kind === 'emergency' && isOpen(q.state) ? h('p', { class: 'le-emergency-note' }, t('legal.emergency_note')) : null,
      hasPackage ? packageSection(q) : null,
      q.state === 'needs_info' ? answerSection(q) : null,
      h('div', { class: 'le-grid' },
        h('div', { class: 'le-col' },
          section('le-facts-title', t('legal.details'), requestFacts(q)),
          section('le-targets-title', t('legal.f.targets'), targetList(q.targets))),
        h('div', { class: 'le-col' },
          section('le-docs-title', t('legal.documents'), documentList(d.documents), isOpen(q.state) ? attachForm(q) : null),
          section('le-timeline-title', t('legal.timeline'), timelineList(d.timeline)),
          isOpen(q.state) ? withdrawSection(q) : null)));
  }

  function section(idAttr, heading, ...content) {
    return h('section', { class: 'le-section', 'aria-labelledby': idAttr }, h('h2', { id: idAttr }, heading), ...content);
  }

  function packageSection(q) {
    const box = errorBox();
    const keyEl = h('code', { class: 'le-key-text', dir: 'ltr' }, '…');
    const button = h('button', { type: 'button', class: 'btn primary le-download' }, t('legal.download'));
    button.addEventListener('click', () => busy(button, async () => {
      try {
        const u = await blobURL(`/legal/requests/${id}/package`, { bearer: officerToken() });
        const a = h('a', { href: u, download: `${q.number}.zip` });
        document.body.append(a);
        a.click();
        a.remove();
        box.hidden = true;
        // The download is on the timeline now.
        shown = '';
        load();
      } catch (err) {
        replace(box, errorText(err));
        box.hidden = false;
      }
    }));
    (async () => {
      try {
        key = key || await call('GET', '/public-key');
        keyEl.textContent = key.public_key;
      } catch (err) {
        keyEl.textContent = errorText(err);
      }
    })();
    return h('section', { class: 'le-section le-package', 'aria-labelledby': 'le-package-title' },
      h('h2', { id: 'le-package-title' }, t('legal.package_title')),
      h('p', {}, t('legal.package_text', { categories: categoryList(q.approved_categories) })),
      h('div', { class: 'actions start' }, button),
      box,
      h('details', { class: 'le-verify', open: verifyOpen, ontoggle: (e) => { verifyOpen = e.target.open; } },
        h('summary', {}, t('legal.verify_package')),
        h('ol', {},
          h('li', {}, t('legal.verify_1')),
          h('li', {}, t('legal.verify_2')),
          h('li', {}, t('legal.verify_3'))),
        h('p', { class: 'le-key-label' }, t('legal.public_key')),
        keyEl));
  }

  function answerSection(q) {
    const box = errorBox();
    const submit = h('button', { type: 'submit', class: 'btn primary' }, t('legal.answer_send'));
    const question = [...d.timeline].reverse().find((e) => e.kind === 'needs_info');
    const form = h('form', { class: 'stack', novalidate: true, dataset: { form: 'answer' } },
      field(t('legal.answer'), { tag: 'textarea', name: 'answer', rows: '4', maxlength: '10000', required: true, dir: 'auto' }),
      box, h('div', { class: 'actions start' }, submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const answer = form.elements.answer.value.trim();
      if (!answer) {
        showError(form, box, { field: 'answer' }, t('auth.fill_in'));
        return;
      }
      await busy(submit, async () => {
        try {
          await call('POST', `/requests/${q.id}/response`, { answer });
          toast(t('legal.answered'));
          document.activeElement.blur();
          shown = '';
          load();
        } catch (err) {
          showError(form, box, err, errorText(err));
        }
      });
    });
    return h('section', { class: 'le-section le-needs-info', 'aria-labelledby': 'le-answer-title' },
      h('h2', { id: 'le-answer-title' }, t('legal.needs_info_title')),
      question && question.note ? h('blockquote', { class: 'le-question', dir: 'auto' }, question.note) : null,
      form);
  }

  function attachForm(q) {
    const picker = documentPicker({ already: d.documents.length, label: t('legal.attach_more') });
    const uploads = h('ul', { class: 'le-uploads', 'aria-live': 'polite', hidden: true });
    const box = errorBox();
    const submit = h('button', { type: 'submit', class: 'btn small' }, t('legal.attach'));
    const form = h('form', { class: 'stack le-attach', novalidate: true }, picker.el, box, uploads, h('div', { class: 'actions start' }, submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const files = picker.files();
      try {
        if (!files.length) throw new ApiError({ field: 'documents', detail: t('legal.choose_files') });
        picker.check();
      } catch (err) {
        showError(form, box, err, err.detail);
        return;
      }
      showError(form, box, null, '');
      await busy(submit, async () => {
        const failed = await attachAll(q.id, files, uploads, officerToken());
        picker.clear();
        if (!failed.length) {
          toast(t('legal.attached', { count: files.length }));
          uploads.hidden = true;
        }
        document.activeElement.blur();
        shown = '';
        if (!failed.length) load();
      });
    });
    return form;
  }

  function withdrawSection(q) {
    const open = h('button', { type: 'button', class: 'btn danger small le-withdraw' }, t('legal.withdraw'));
    open.addEventListener('click', () => {
      openDialog(t('legal.withdraw_title', { number: q.number }), (close) => {
        const box = errorBox();
        const submit = h('button', { type: 'submit', class: 'btn danger' }, t('legal.withdraw'));
        const form = h('form', { class: 'modal-body stack', novalidate: true },
          h('p', {}, t('legal.withdraw_text')),
          field(t('legal.withdraw_reason'), { tag: 'textarea', name: 'reason', rows: '3', maxlength: '2000', dir: 'auto' }),
          box,
          h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', onclick: close }, t('common.cancel')), submit));
        form.addEventListener('submit', async (e) => {
          e.preventDefault();
          await busy(submit, async () => {
            try {
              await call('POST', `/requests/${q.id}/withdrawal`, { reason: form.elements.reason.value.trim() });
              close();
              toast(t('legal.withdrawn', { number: q.number }));
              shown = '';
              load();
            } catch (err) {
              showError(form, box, err, errorText(err));
            }
          });
        });
        return form;
      });
    });
    return h('div', { class: 'actions start le-withdraw-row' }, open);
  }

  load();
  timer = setInterval(() => { if (!document.hidden) load(); }, refreshEvery);
  return {
    el,
    leave: () => {
      closed = true;
      clearInterval(timer);
    },
  };
}
