// The law of the place, as the messenger shows it: chats and messages
// withheld in the reader's country (with why, and under which law), the
// screen of a market the operator has left, and the country an account
// declares. Where someone is decides what the server sends them; the app
// only says so, in the reader's language.
import { api, errorText } from './api.js';
import { t, language } from './i18n.js';
import { h, field, showError, toast } from './dom.js';
import { store, reloadDialogs } from './store.js';
import { reasons, reasonLabel } from './report.js';

// countryCodes are the ISO 3166-1 alpha-2 codes the server accepts (and
// XK, Kosovo): the same list as kurir.Countries, which a Go test checks.
export const countryCodes = (
  'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ ' +
  'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR ' +
  'GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO ' +
  'JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR ' +
  'MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO ' +
  'RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV ' +
  'TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW').split(' ');

let names = null; // {lang, of: Intl.DisplayNames}

// countryName is the country's name in the app's language ("Германия" in
// Russian, "ألمانيا" in Arabic), or fallback, or the code itself.
export function countryName(code, fallback = '') {
  const lang = language();
  if (!names || names.lang !== lang) {
    try {
      names = { lang, of: new Intl.DisplayNames([lang], { type: 'region', fallback: 'none' }) };
    } catch {
      names = { lang, of: null };
    }
  }
  let name = '';
  try {
    name = (names.of && names.of.of(code)) || '';
  } catch {
    name = '';
  }
  return name && name !== code ? name : fallback || code;
}

// countryOptions are <option>s of every country, by name in the app's
// language, each named "Name (CODE)".
export function countryOptions(chosen = '') {
  const coll = new Intl.Collator(language());
  return countryCodes.map((code) => ({ code, name: countryName(code) }))
    .sort((a, b) => coll.compare(a.name, b.name))
    .map((c) => h('option', { value: c.code, selected: c.code === chosen }, c.name === c.code ? c.code : `${c.name} (${c.code})`));
}

// countryField is a labelled <select> of the country an account declares,
// with "Not set" first.
export function countryField(chosen = '') {
  const f = field(t('law.country'), { name: 'country', tag: 'select', autocomplete: 'country', hint: t('law.country_hint') });
  f.querySelector('select').append(h('option', { value: '' }, t('law.country_none')), ...countryOptions(chosen));
  return f;
}

// countrySection is the settings' section for the declared country: it
// changes it with PATCH /me, after which what is withheld may change, so
// the chat list is fetched again.
export function countrySection() {
  const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const f = countryField(store.me.country || '');
  // The field's label is the section's heading, as the language's is.
  f.prepend(h('h3', { id: 'country-title' }, f.querySelector('label')));
  const form = h('form', { class: 'stack country-form', novalidate: true },
    f, box,
    h('div', { class: 'actions start' }, h('button', { type: 'submit', class: 'btn' }, t('common.save'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const btn = form.querySelector('button[type="submit"]');
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    try {
      const me = await api('PATCH', '/me', { country: form.elements.country.value });
      Object.assign(store.me, me);
      if (!me.country) store.me.country = '';
      showError(form, box, null, '');
      toast(t('law.country_saved'));
      reloadDialogs();
    } catch (err) {
      showError(form, box, err, errorText(err));
    } finally {
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
    }
  });
  return h('section', { 'aria-labelledby': 'country-title' }, form);
}

// Withheld content ------------------------------------------------------------

// isolate keeps text of either direction (a German law's name in an
// Arabic sentence) from reordering the sentence around it.
function isolate(s) {
  return `\u2068${s}\u2069`;
}

// withReason renders (with render(reason, el)) why something is withheld,
// as a reader is told: first the reason the server wrote, then, once the
// labels are known, the moderation category in the app's language.
function withReason(w, render) {
  const el = render(w.reason || w.category || '');
  if (w.category) {
    reasons().then((list) => {
      const label = reasonLabel(list, w.category);
      if (label && label !== w.category) render(label, el);
    }, () => {});
  }
  return el;
}

// withheldMessageNote is what a reader sees in place of a message withheld
// in their country: "This message is not available in your country (DE):
// Hate speech (§ 130 StGB)".
export function withheldMessageNote(w) {
  return withReason(w, (reason, el = h('p', { class: 'withheld-note' })) => {
    el.textContent = w.legal_reference
      ? t('law.withheld_message_law', { country: w.country, reason: isolate(reason), law: isolate(w.legal_reference) })
      : t('law.withheld_message', { country: w.country, reason: isolate(reason) });
    return el;
  });
}

// withheldPreview is a withheld chat's line in the chat list.
export function withheldPreview(w) {
  return w && w.country ? t('law.withheld_preview', { country: w.country }) : t('law.withheld_short');
}

// withheldChatNotice is what a reader sees instead of a group or channel
// withheld in their country; w may be only {detail}, the server's words,
// when the history answered 451 before the chat said why.
export function withheldChatNotice(chat) {
  const w = chat.withheld || {};
  const what = chat.kind === 'channel' ? t('law.withheld_channel') : t('law.withheld_group');
  const parts = [h('h3', {}, what)];
  if (w.country) {
    parts.push(h('p', {}, t('law.withheld_chat_text', { country: `${countryName(w.country)} (${w.country})` })));
    parts.push(withReason(w, (reason, el = h('p', { class: 'withheld-reason' })) => {
      el.textContent = t('law.withheld_reason', { reason: isolate(reason) });
      return el;
    }));
    if (w.legal_reference) parts.push(h('p', { class: 'withheld-law' }, t('law.withheld_law', { law: isolate(w.legal_reference) })));
  } else if (w.detail) {
    parts.push(h('p', {}, w.detail));
  }
  return parts;
}

// isWithheld says whether a failed request was refused because what it
// asked for is withheld in the reader's country.
export function isWithheld(err) {
  return !!err && err.status === 451 && err.reason === 'withheld_in_country';
}

// A withdrawn market -----------------------------------------------------------

// withdrawnScreen is all a person sees where the operator has left the
// market: the server's explanation (in the language the app asked for),
// and the ways on: trying again or logging out for a device logged in,
// back to the login form for one that is not.
export function withdrawnScreen(detail, { loggedIn, retry, logout, back }) {
  const buttons = loggedIn
    ? [h('button', { type: 'button', class: 'btn primary', onclick: retry }, t('common.retry')),
      h('button', { type: 'button', class: 'btn', onclick: logout }, t('settings.logout'))]
    : [h('button', { type: 'button', class: 'btn primary', onclick: back }, t('law.withdrawn_back'))];
  return h('div', { class: 'auth withdrawn' },
    h('section', { class: 'card', 'aria-labelledby': 'withdrawn-title' },
      h('p', { class: 'brand', 'aria-hidden': 'true' }, 'kurir'),
      h('h1', { id: 'withdrawn-title' }, t('law.withdrawn_title')),
      h('p', { class: 'withdrawn-detail', role: 'alert', dir: 'auto' }, detail),
      h('p', { class: 'muted' }, t('law.withdrawn_text')),
      h('div', { class: 'actions start' }, buttons)));
}

// withheldFound is the server's answer to a lookup (a public @name, an
// invite link) of a chat withheld in the reader's country.
export function withheldFound(err) {
  return h('span', { class: 'withheld-found' }, h('strong', {}, t('law.withheld_short')), ' ', h('span', {}, err.detail));
}
