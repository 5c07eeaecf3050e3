// The public notice form (EU Digital Services Act, Art. 16): anyone, with or
// without an account, tells the moderators about content they believe is
// illegal, gets a receipt, and follows the notice to its decision at
// /notices/status with the receipt's number and token.
import { api, errorText } from './api.js';
import { t } from './i18n.js';
import { h, replace, field, showError, formatDateTime } from './dom.js';
import { languagePicker } from './auth.js';
import { navigate } from './nav.js';
import { reasons, reasonLabel, fillReasons, counted } from './report.js';

const maxExplanation = 5000; // the server's limits
const maxName = 200;
const maxEmail = 254;
const childAbuse = 'child_abuse'; // notices of it may be anonymous

// draft is what was typed in the form, kept while the page is drawn again
// in another language.
let draft = {};

// page is a public page: a card with the brand, the content, links to the
// other public pages and the language menu.
function page(titleId, ...content) {
  const card = h('section', { class: 'card notice-card', 'aria-labelledby': titleId },
    h('p', { class: 'brand', 'aria-hidden': 'true' }, 'kurir'),
    ...content,
    h('nav', { class: 'public-links', 'aria-label': t('notice.links') },
      h('a', { href: '/notices' }, t('notice.new')),
      h('a', { href: '/notices/status' }, t('notice.check')),
      h('a', { href: '/' }, t('notice.to_app'))),
    languagePicker());
  return h('div', { class: 'auth public' }, card);
}

// withExamples fills a message's {link} and {name} with examples set left to
// right, as addresses are, inside text of either direction.
function withExamples(text, examples) {
  return text.split(/(\{\w+\})/).map((part) => {
    const m = part.match(/^\{(\w+)\}$/);
    return m && examples[m[1]] ? h('bdi', { dir: 'ltr', class: 'example' }, examples[m[1]]) : part;
  });
}

// noticeScreen is the notice form, and the receipt once it is sent.
export function noticeScreen() {
  const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const explanation = field(t('notice.explanation'), {
    tag: 'textarea', name: 'explanation', rows: '5', maxlength: String(maxExplanation), required: true, dir: 'auto',
    hint: t('notice.explanation_hint'),
  });
  const explCounter = h('p', { class: 'hint count', 'aria-hidden': 'true' });
  explanation.append(explCounter);
  counted(explanation.querySelector('textarea'), explCounter, maxExplanation);
  const where = field(t('notice.location'), {
    name: 'location', required: true, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', dir: 'ltr', hint: ' ',
  });
  replace(where.querySelector('.hint'), ...withExamples(t('notice.location_hint'), { link: `${location.origin}/chats/5`, name: '@channel/17' }));
  const category = field(t('notice.category'), { tag: 'select', name: 'category', required: true });
  const select = category.querySelector('select');
  select.append(h('option', { value: '' }, t('report.loading')));
  const whoHintId = `who-hint-${Math.random().toString(36).slice(2, 7)}`;
  const name = field(t('notice.name'), { name: 'name', autocomplete: 'name', maxlength: String(maxName), dir: 'auto' });
  const email = field(t('notice.email'), { name: 'email', type: 'email', autocomplete: 'email', maxlength: String(maxEmail), dir: 'ltr' });
  for (const f of [name, email]) {
    const input = f.querySelector('input');
    input.setAttribute('aria-describedby', whoHintId);
  }
  const who = h('fieldset', { class: 'who' },
    h('legend', {}, t('notice.who')),
    h('p', { class: 'hint', id: whoHintId }, t('notice.who_hint')),
    name, email);
  const gfId = `good-faith-${Math.random().toString(36).slice(2, 7)}`;
  const goodFaith = h('div', { class: 'field check' },
    h('div', { class: 'check-row' },
      h('input', { type: 'checkbox', name: 'good_faith', id: gfId, value: 'yes', required: true }),
      h('label', { for: gfId }, t('notice.good_faith'))),
    h('p', { class: 'field-error', id: `${gfId}-err`, hidden: true }));
  const submit = h('button', { type: 'submit', class: 'btn primary wide' }, t('notice.send'));
  const form = h('form', { class: 'notice-form stack', novalidate: true },
    explanation, where, category, who, goodFaith, box, submit);

  // Name and e-mail are required, except for notices of child sexual
  // abuse material, which may be sent anonymously.
  const anonymousAllowed = () => {
    const optional = select.value === childAbuse;
    for (const [f, label] of [[name, t('notice.name')], [email, t('notice.email')]]) {
      f.querySelector('input').required = !optional;
      f.querySelector('label').textContent = optional ? t('notice.optional', { label }) : label;
    }
  };
  select.addEventListener('change', anonymousAllowed);

  // What was typed survives the page being drawn again.
  const saved = draft;
  const save = () => {
    draft = Object.fromEntries(new FormData(form));
  };
  form.addEventListener('input', save);
  form.addEventListener('change', save);
  for (const [k, v] of Object.entries(saved)) {
    const input = form.elements[k];
    if (!input || k === 'category') continue;
    if (input.type === 'checkbox') input.checked = true;
    else input.value = v;
    input.dispatchEvent(new Event('input'));
  }

  let loaded = false;
  const load = () => reasons().then((list) => {
    loaded = true;
    fillReasons(select, list, select.value || saved.category || '');
    anonymousAllowed();
  });
  load().catch((err) => showError(form, box, null, errorText(err)));

  const titleId = 'notice-title';
  const el = page(titleId,
    h('h1', { id: titleId }, t('notice.title')),
    h('p', {}, t('notice.intro')),
    h('p', { class: 'muted' }, t('notice.not_for_reports')),
    form);
  const card = el.querySelector('.card');

  function check(v) {
    const anonymous = v.category === childAbuse;
    if (!v.explanation.trim()) return ['explanation', t('notice.need_explanation')];
    if (!v.location.trim()) return ['location', t('notice.need_location')];
    if (!v.category) return ['category', t('notice.need_category')];
    if (!anonymous && !v.name.trim()) return ['name', t('notice.need_name')];
    if (!anonymous && !v.email.trim()) return ['email', t('notice.need_email')];
    if (!v.good_faith) return ['good_faith', t('notice.need_good_faith')];
    return null;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (submit.disabled) return;
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    try {
      if (!loaded) await load();
      const v = Object.fromEntries(new FormData(form));
      const bad = check(v);
      if (bad) {
        showError(form, box, { field: bad[0] }, bad[1]);
        return;
      }
      const body = {
        explanation: v.explanation.trim(), location: v.location.trim(), category: v.category, good_faith: true,
      };
      if (v.name.trim()) body.name = v.name.trim();
      if (v.email.trim()) body.email = v.email.trim();
      const rec = await api('POST', '/notices', body);
      draft = {};
      receipt(rec, body.email);
    } catch (err) {
      showError(form, box, err, errorText(err));
    } finally {
      submit.disabled = false;
      submit.removeAttribute('aria-busy');
    }
  });

  // receipt replaces the form with what the notifier needs to keep; the
  // server mails the same to an address they gave, and the decision later.
  function receipt(rec, email) {
    const url = `${location.origin}${rec.status_url}`;
    const linkId = 'receipt-link';
    replace(card,
      h('p', { class: 'brand', 'aria-hidden': 'true' }, 'kurir'),
      h('h1', { id: titleId, tabindex: '-1' }, t('notice.received_title')),
      h('p', {}, t('notice.received_text')),
      h('dl', { class: 'facts notice-receipt' },
        h('dt', {}, t('notice.number')), h('dd', { class: 'receipt-id' }, String(rec.id)),
        h('dt', {}, t('notice.received_at')), h('dd', {}, formatDateTime(rec.received_at)),
        h('dt', {}, t('notice.token')), h('dd', {}, h('code', { class: 'receipt-token', dir: 'ltr' }, rec.token))),
      h('p', {}, t('notice.keep')),
      email ? h('p', { class: 'notice-mailed' }, t('notice.mailed', { email })) : null,
      h('div', { class: 'field' },
        h('label', { for: linkId }, t('notice.status_link')),
        h('input', { id: linkId, type: 'text', readonly: true, value: url, class: 'invite-link', dir: 'ltr' })),
      h('a', { class: 'btn primary status-link', href: rec.status_url }, t('notice.follow')),
      ...[...el.querySelectorAll('.public-links, .lang-picker')]);
    card.querySelector('h1').focus();
  }

  return el;
}

function actionText(action) {
  switch (action) {
    case 'remove_message': return t('notice.action_remove_message');
    case 'takedown': return t('notice.action_takedown');
    case 'suspend': return t('notice.action_suspend');
    case 'ban': return t('notice.action_ban');
    case 'label': return t('notice.action_label');
    case 'remove_media': return t('notice.action_remove_media');
    case 'restrict': return t('notice.action_restrict');
    default: return action;
  }
}

// lookupForm asks for a notice's number and token, to follow it.
function lookupForm(id = '', token = '') {
  const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const form = h('form', { class: 'notice-lookup stack', novalidate: true },
    field(t('notice.number'), { name: 'id', inputmode: 'numeric', autocomplete: 'off', value: id, dir: 'ltr' }),
    field(t('notice.token'), { name: 'token', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', value: token, dir: 'ltr' }),
    box,
    h('button', { type: 'submit', class: 'btn primary' }, t('notice.check_button')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = Object.fromEntries(new FormData(form));
    const n = v.id.trim();
    if (!/^\d+$/.test(n)) {
      showError(form, box, { field: 'id' }, t('notice.need_number'));
      return;
    }
    if (!v.token.trim()) {
      showError(form, box, { field: 'token' }, t('notice.need_token'));
      return;
    }
    navigate(`/notices/status?id=${n}&token=${encodeURIComponent(v.token.trim())}`);
  });
  return form;
}

// noticeStatusScreen shows where the notice named by ?id= and ?token=
// stands: received, or decided, how, and whether automation was used.
export function noticeStatusScreen() {
  const q = new URLSearchParams(location.search);
  const id = q.get('id') || '';
  const token = q.get('token') || '';
  const titleId = 'notice-status-title';
  const body = h('div', { class: 'stack', 'aria-live': 'polite' });
  const el = page(titleId, h('h1', { id: titleId }, t('notice.status_title')), body);
  if (!id || !token) {
    replace(body, h('p', {}, t('notice.lookup_text')), lookupForm(id, token));
    return el;
  }
  replace(body, h('p', { class: 'muted' }, t('report.loading')));
  (async () => {
    try {
      const [st, list] = await Promise.all([
        api('GET', `/notices/${encodeURIComponent(id)}?token=${encodeURIComponent(token)}`),
        reasons().catch(() => []),
      ]);
      const decided = st.state === 'decided';
      const rows = [
        [t('notice.number'), String(st.id)],
        [t('notice.received_at'), formatDateTime(st.received_at)],
        [t('notice.status_location'), h('bdi', { dir: 'ltr' }, st.location)],
        [t('notice.status_category'), reasonLabel(list, st.category)],
        [t('notice.state'), decided ? t('notice.state_decided') : t('notice.state_received')],
      ];
      if (decided) {
        rows.push([t('notice.decided_at'), st.decided_at ? formatDateTime(st.decided_at) : '']);
        rows.push([t('notice.outcome'), st.outcome === 'actioned' ? t('notice.outcome_actioned') : t('notice.outcome_dismissed')]);
        if (st.action) rows.push([t('notice.action'), actionText(st.action)]);
        // Whether automation decided it; a notice dismissed was dismissed by a person.
        rows.push([t('notice.automation'), st.automated_decision ? t('notice.automated_yes') : t('notice.automated_no')]);
        if (st.automated_detection) rows.push([t('notice.detection'), t('notice.detection_yes')]);
        // A decision reversed since (on the affected person's appeal, or by
        // the moderators) no longer holds: the content is back.
        if (st.reversal) {
          const when = formatDateTime(st.reversal.at);
          rows.push([t('notice.reversed'), st.reversal.by_appeal ? t('notice.reversed_appeal', { when }) : t('notice.reversed_staff', { when })]);
        }
      }
      replace(body,
        h('dl', { class: 'facts notice-status', dataset: { state: st.state } },
          ...rows.filter((r) => r[1]).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
        h('p', { class: 'muted' }, decided ? t('notice.decided_text') : t('notice.received_later')));
    } catch (err) {
      replace(body,
        h('p', { class: 'form-error', role: 'alert' }, err.status === 404 ? t('notice.not_found') : errorText(err)),
        lookupForm(id, token));
    }
  })();
  return el;
}
