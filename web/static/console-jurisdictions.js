// Jurisdictions in the moderation console: the state of each market (open,
// restricted with some features off, or withdrawn) and the country rules
// that make a category of content illegal in a country or group of
// countries, under a law. Staff read them; admins change them, and the
// server refuses anyone else. The case view uses the same data to show
// where a restriction "by country rules" applies, and which restrictions
// are in force on a chat.
import { api, errorText } from './api.js';
import { t, language } from './i18n.js';
import { h, replace, field, showError, toast, confirmDialog, formatDateTime } from './dom.js';
import { store } from './store.js';
import { can, loadCategories, categoryLabel, person, loadPeople } from './console-labels.js';
import { countryName } from './jurisdiction.js';

// The data: GET /jurisdictions ------------------------------------------------

let cached = null; // the promise of GET /jurisdictions, until something changes it

// jurisdictions resolves to the markets, rules and groups; fresh asks the
// server again rather than using what the console fetched before.
export function jurisdictions({ fresh = false } = {}) {
  if (!cached || fresh) {
    const p = api('GET', '/jurisdictions');
    cached = p;
    p.catch(() => { if (cached === p) cached = null; });
  }
  return cached;
}

// groupName names a group of countries a rule or restriction may use.
function groupName(code) {
  const names = { EU: t('console.jur.group_eu'), EEA: t('console.jur.group_eea') };
  return names[code] || code;
}

// scopeText names a country ("Germany (DE)") or group ("EU: European Union").
export function scopeText(code, data) {
  if (data && data.groups && data.groups[code]) return `${code}: ${groupName(code)}`;
  return `${countryName(code, knownName(code, data))} (${code})`;
}

function knownName(code, data) {
  const c = data && data.all_countries && data.all_countries.find((x) => x.code === code);
  return c ? c.name : '';
}

// expand returns the countries that codes (countries and groups) name,
// sorted, without repeats.
export function expand(codes, groups) {
  const out = new Set();
  for (const c of codes) for (const x of (groups && groups[c]) || [c]) out.add(x);
  return [...out].sort();
}

// illegalIn is where the country rules make category illegal today: the
// countries (groups expanded) with the law of each, sorted by country. The
// first rule for a country decides its law, as on the server.
export function illegalIn(category, data) {
  const laws = new Map();
  for (const r of (data && data.rules) || []) {
    if (r.category !== category) continue;
    for (const c of expand([r.scope], data.groups)) if (!laws.has(c)) laws.set(c, r.legal_reference);
  }
  return [...laws.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([country, law]) => ({ country, law }));
}

// parseCodes reads a comma- or space-separated list of codes.
export function parseCodes(s) {
  return [...new Set(String(s || '').split(/[\s,;]+/).map((c) => c.trim().toUpperCase()).filter(Boolean))];
}

function statusLabel(s) {
  const labels = {
    open: t('console.jur.status_open'),
    restricted: t('console.jur.status_restricted'),
    withdrawn: t('console.jur.status_withdrawn'),
  };
  return labels[s] || s;
}

function featureLabel(f) {
  const labels = {
    signup: t('console.jur.feature_signup'),
    discovery: t('console.jur.feature_discovery'),
    public_chats: t('console.jur.feature_public_chats'),
    uploads: t('console.jur.feature_uploads'),
  };
  return labels[f] || f;
}

// countryChoices are <option>s of every country the server knows, by name
// in the app's language.
function countryChoices(data) {
  const coll = new Intl.Collator(language());
  return data.all_countries.map((c) => ({ code: c.code, name: countryName(c.code, c.name) }))
    .sort((a, b) => coll.compare(a.name, b.name))
    .map((c) => h('option', { value: c.code }, `${c.name} (${c.code})`));
}

// The page ----------------------------------------------------------------------

// jurisdictionsView is the page at /console/jurisdictions.
export function jurisdictionsView({ notStaff }) {
  const admin = can(store.me.role, 'admin');
  let closed = false;
  let data = null;
  const status = h('p', { class: 'muted console-status', role: 'status' }, t('console.loading'));

  const marketBody = h('tbody');
  const marketsEmpty = h('p', { class: 'muted', hidden: true }, t('console.jur.markets_empty'));
  const marketTable = h('div', { class: 'table-wrap', hidden: true }, h('table', { class: 'queue jur-markets' },
    h('caption', { class: 'sr' }, t('console.jur.markets')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('console.jur.country')),
      h('th', { scope: 'col' }, t('console.jur.status')),
      h('th', { scope: 'col' }, t('console.jur.off')),
      h('th', { scope: 'col' }, t('console.jur.note')),
      h('th', { scope: 'col' }, t('console.jur.updated')),
      admin ? h('th', { scope: 'col' }, h('span', { class: 'sr' }, t('console.jur.edit'))) : null)),
    marketBody));

  const ruleBody = h('tbody');
  const rulesEmpty = h('p', { class: 'muted', hidden: true }, t('console.jur.rules_empty'));
  const ruleTable = h('div', { class: 'table-wrap', hidden: true }, h('table', { class: 'queue jur-rules' },
    h('caption', { class: 'sr' }, t('console.jur.rules')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('console.jur.scope')),
      h('th', { scope: 'col' }, t('console.category')),
      h('th', { scope: 'col' }, t('console.legal_reference')),
      h('th', { scope: 'col' }, t('console.jur.added')),
      admin ? h('th', { scope: 'col' }, h('span', { class: 'sr' }, t('console.jur.remove'))) : null)),
    ruleBody));
  const groups = h('details', { class: 'jur-groups', hidden: true });

  const policyForm = admin ? marketForm() : null;
  const ruleForm = admin ? addRuleForm() : null;

  const el = h('section', { class: 'console-jurisdictions', 'aria-labelledby': 'jur-title' },
    h('div', { class: 'console-bar' }, h('h2', { id: 'jur-title' }, t('console.jurisdictions'))),
    h('p', { class: 'hint jur-intro' }, t('console.jur.text')),
    admin ? null : h('p', { class: 'hint jur-read-only' }, t('console.jur.read_only')),
    status,
    h('div', { class: admin ? 'bulk-grid jur-block' : 'jur-block' },
      h('section', { class: 'case-section', 'aria-labelledby': 'jur-markets-title' },
        h('h3', { id: 'jur-markets-title' }, t('console.jur.markets')),
        marketsEmpty, marketTable),
      policyForm ? h('div', { class: 'case-section' }, policyForm.el) : null),
    h('div', { class: admin ? 'bulk-grid jur-block' : 'jur-block' },
      h('section', { class: 'case-section', 'aria-labelledby': 'jur-rules-title' },
        h('h3', { id: 'jur-rules-title' }, t('console.jur.rules')),
        h('p', { class: 'hint' }, t('console.jur.rules_text')),
        rulesEmpty, ruleTable, groups),
      ruleForm ? h('div', { class: 'case-section' }, ruleForm.el) : null));

  async function load() {
    try {
      const [d] = await Promise.all([jurisdictions({ fresh: true }), loadCategories().catch(() => [])]);
      if (closed) return;
      await loadPeople([...d.countries.map((c) => c.updated_by), ...d.rules.map((r) => r.created_by)]);
      if (closed) return;
      data = d;
      status.hidden = true;
      render();
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

  function render() {
    marketsEmpty.hidden = data.countries.length > 0;
    marketTable.hidden = !data.countries.length;
    replace(marketBody, ...data.countries.map(marketRow));
    rulesEmpty.hidden = data.rules.length > 0;
    ruleTable.hidden = !data.rules.length;
    replace(ruleBody, ...data.rules.map(ruleRow));
    groups.hidden = false;
    replace(groups, h('summary', {}, t('console.jur.groups')),
      h('dl', { class: 'facts' }, Object.keys(data.groups).sort().map((g) => [
        h('dt', {}, `${g}: ${groupName(g)}`),
        h('dd', { class: 'mono' }, data.groups[g].join(', '))])));
    if (policyForm) policyForm.fill(data);
    if (ruleForm) ruleForm.fill(data);
  }

  function updated(at, by) {
    return h('span', {}, h('time', { datetime: at }, formatDateTime(at)), h('span', { class: 'muted' }, ` · ${person(by)}`));
  }

  function marketRow(c) {
    const name = scopeText(c.code, data);
    return h('tr', { class: 'jur-market', dataset: { country: c.code } },
      h('td', { 'data-label': t('console.jur.country') }, h('strong', {}, name)),
      h('td', { 'data-label': t('console.jur.status') }, h('span', { class: `jur-status ${c.status}` }, statusLabel(c.status))),
      h('td', { 'data-label': t('console.jur.off') }, c.off.length ? c.off.map(featureLabel).join(', ') : h('span', { class: 'muted' }, '—')),
      h('td', { 'data-label': t('console.jur.note'), dir: 'auto', class: 'note' }, c.note || h('span', { class: 'muted' }, '—')),
      h('td', { 'data-label': t('console.jur.updated') }, updated(c.updated_at, c.updated_by)),
      admin ? h('td', { class: 'row-action' }, h('button', {
        type: 'button', class: 'btn small edit', 'aria-label': t('console.jur.edit_name', { country: name }),
        onclick: () => policyForm.edit(c.code),
      }, t('console.jur.edit'))) : null);
  }

  function ruleRow(r) {
    const scope = scopeText(r.scope, data);
    const category = categoryLabel(r.category);
    return h('tr', { class: 'jur-rule', dataset: { id: String(r.id), scope: r.scope } },
      h('td', { 'data-label': t('console.jur.scope') }, h('strong', {}, scope)),
      h('td', { 'data-label': t('console.category') }, category),
      h('td', { 'data-label': t('console.legal_reference'), dir: 'auto' }, r.legal_reference),
      h('td', { 'data-label': t('console.jur.added') }, updated(r.created_at, r.created_by)),
      admin ? h('td', { class: 'row-action' }, h('button', {
        type: 'button', class: 'btn small danger remove', 'aria-label': t('console.jur.remove_name', { category, scope }),
        onclick: () => removeRule(r, category, scope),
      }, t('console.jur.remove'))) : null);
  }

  async function removeRule(r, category, scope) {
    const yes = await confirmDialog(t('console.jur.remove'), t('console.jur.remove_text', { category, scope }), t('console.jur.remove'), { danger: true });
    if (!yes) return;
    try {
      await api('DELETE', `/jurisdictions/rules/${r.id}`);
      toast(t('console.jur.removed', { category, scope }));
      await load();
      if (ruleForm) ruleForm.focus();
    } catch (err) {
      toast(errorText(err), { error: true });
    }
  }

  // marketForm sets a country's market state. Choosing a country shows its
  // policy as it is, to change.
  function marketForm() {
    const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const country = field(t('console.jur.country'), { name: 'country', tag: 'select', required: true });
    const countrySelect = country.querySelector('select');
    const statusField = field(t('console.jur.status'), { name: 'status', tag: 'select' });
    const statusSelect = statusField.querySelector('select');
    statusSelect.append(...['open', 'restricted', 'withdrawn'].map((s) => h('option', { value: s }, statusLabel(s))));
    const off = h('fieldset', { class: 'jur-off' }, h('legend', {}, t('console.jur.off')));
    const note = field(t('console.jur.note'), { name: 'note', tag: 'textarea', rows: '3', maxlength: '500', hint: t('console.jur.note_hint') });
    const submit = h('button', { type: 'submit', class: 'btn primary' }, t('console.jur.save'));
    const form = h('form', { class: 'jur-policy-form stack', novalidate: true, 'aria-labelledby': 'jur-policy-title' },
      h('h3', { id: 'jur-policy-title' }, t('console.jur.set_title')),
      h('p', { class: 'hint' }, t('console.jur.set_hint')),
      country, statusField, off, note, box,
      h('div', { class: 'actions start' }, submit));

    function offBoxes() {
      return [...off.querySelectorAll('input[name="off"]')];
    }
    // Features are turned off only in a restricted market.
    function syncOff() {
      const restricted = statusSelect.value === 'restricted';
      off.disabled = !restricted;
      if (!restricted) for (const b of offBoxes()) b.checked = false;
    }
    function show(code) {
      const p = data.countries.find((c) => c.code === code);
      statusSelect.value = p ? p.status : 'open';
      for (const b of offBoxes()) b.checked = !!p && p.off.includes(b.value);
      form.elements.note.value = p ? p.note : '';
      syncOff();
    }
    countrySelect.addEventListener('change', () => show(countrySelect.value));
    statusSelect.addEventListener('change', syncOff);

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const code = countrySelect.value;
      if (!code) {
        showError(form, box, { field: 'country' }, t('auth.fill_in'));
        return;
      }
      const body = { status: statusSelect.value, off: offBoxes().filter((b) => b.checked).map((b) => b.value), note: form.elements.note.value.trim() };
      const name = scopeText(code, data);
      const before = data.countries.find((c) => c.code === code);
      if (body.status === 'withdrawn' && (!before || before.status !== 'withdrawn')) {
        const yes = await confirmDialog(t('console.jur.withdraw_title', { country: name }), t('console.jur.withdraw_text', { country: name }),
          t('console.jur.withdraw'), { danger: true });
        if (!yes) return;
      }
      submit.disabled = true;
      submit.setAttribute('aria-busy', 'true');
      try {
        const p = await api('PUT', `/jurisdictions/countries/${encodeURIComponent(code)}`, body);
        showError(form, box, null, '');
        toast(t('console.jur.saved', { country: name, status: statusLabel(p.status) }));
        await load();
        show(code);
      } catch (err) {
        // The features have no field of their own to mark.
        showError(form, box, err.field === 'off' ? null : err, errorText(err));
      } finally {
        submit.disabled = false;
        submit.removeAttribute('aria-busy');
      }
    });

    let filled = false;
    return {
      el: form,
      fill(d) {
        if (filled) return;
        filled = true;
        countrySelect.append(h('option', { value: '' }, t('console.jur.choose_country')), ...countryChoices(d));
        off.append(...d.features.map((f) => {
          const id = `jur-off-${f}`;
          return h('div', { class: 'check' }, h('input', { type: 'checkbox', name: 'off', value: f, id }), h('label', { for: id }, featureLabel(f)));
        }));
        syncOff();
      },
      edit(code) {
        countrySelect.value = code;
        show(code);
        countrySelect.focus();
      },
    };
  }

  // addRuleForm records that a category is illegal in a country or group.
  function addRuleForm() {
    const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const scope = field(t('console.jur.scope'), { name: 'scope', tag: 'select', required: true });
    const category = field(t('console.category'), { name: 'category', tag: 'select', required: true });
    const ref = field(t('console.legal_reference'), { name: 'legal_reference', maxlength: '500', autocomplete: 'off', required: true, hint: t('console.jur.law_hint') });
    const submit = h('button', { type: 'submit', class: 'btn primary' }, t('console.jur.add'));
    const form = h('form', { class: 'jur-rule-form stack', novalidate: true, 'aria-labelledby': 'jur-rule-title' },
      h('h3', { id: 'jur-rule-title' }, t('console.jur.add_rule')),
      scope, category, ref, box,
      h('div', { class: 'actions start' }, submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = { scope: form.elements.scope.value, category: form.elements.category.value, legal_reference: form.elements.legal_reference.value.trim() };
      const missing = ['scope', 'category', 'legal_reference'].find((f) => !body[f]);
      if (missing) {
        showError(form, box, { field: missing }, t('auth.fill_in'));
        return;
      }
      submit.disabled = true;
      submit.setAttribute('aria-busy', 'true');
      try {
        const r = await api('POST', '/jurisdictions/rules', body);
        showError(form, box, null, '');
        form.elements.legal_reference.value = '';
        toast(t('console.jur.rule_added', { category: categoryLabel(r.category), scope: scopeText(r.scope, data) }));
        await load();
      } catch (err) {
        showError(form, box, err, errorText(err));
      } finally {
        submit.disabled = false;
        submit.removeAttribute('aria-busy');
      }
    });
    let filled = false;
    return {
      el: form,
      fill(d) {
        if (filled) return;
        filled = true;
        form.elements.scope.append(h('option', { value: '' }, t('console.jur.choose_scope')),
          h('optgroup', { label: t('console.jur.groups') }, Object.keys(d.groups).sort().map((g) => h('option', { value: g }, `${g}: ${groupName(g)}`))),
          h('optgroup', { label: t('console.jur.countries') }, countryChoices(d)));
        loadCategories().then((list) => {
          form.elements.category.append(h('option', { value: '' }, t('console.jur.choose_category')),
            ...list.map((c) => h('option', { value: c.id }, c.label)));
        }, () => {});
      },
      focus: () => form.elements.scope.focus(),
    };
  }

  load();
  return {
    el,
    keys: {},
    leave: () => { closed = true; },
  };
}

// In a case ------------------------------------------------------------------------

// territoryField is the restrict action's countries input, with a live
// account of where that means: the countries it names (groups expanded),
// or, left empty, where the country rules make the chosen category illegal
// today. ref is the legal reference input, filled from the rules while the
// moderator has not written one.
export function territoryField(categorySelect, ref) {
  const f = field(t('console.restrict_countries'), {
    name: 'countries', autocomplete: 'off', spellcheck: 'false', dir: 'ltr', maxlength: '300',
    placeholder: t('console.restrict_by_rules'), hint: t('console.restrict_countries_hint'),
  });
  const input = f.querySelector('input');
  const preview = h('p', { class: 'jur-preview', 'aria-live': 'polite' }, t('console.loading'));
  let data = null;
  let autoRef = ''; // the legal reference the rules filled in, while untouched

  function update() {
    if (!data) return;
    const codes = parseCodes(input.value);
    const category = categoryLabel(categorySelect.value);
    if (!codes.length) {
      const where = illegalIn(categorySelect.value, data);
      preview.classList.toggle('none', !where.length);
      preview.textContent = where.length
        ? t('console.restrict_rules_in', { category, countries: where.map((w) => `${w.country} (${w.law})`).join(', ') })
        : t('console.restrict_rules_none', { category });
      const law = [...new Set(where.map((w) => w.law))].join('; ').slice(0, 500);
      if (ref && (!ref.value || ref.value === autoRef)) {
        ref.value = law;
        autoRef = law;
      }
      return;
    }
    const unknown = codes.filter((c) => !data.groups[c] && !data.all_countries.some((x) => x.code === c));
    const countries = expand(codes.filter((c) => !unknown.includes(c)), data.groups);
    preview.classList.toggle('none', !countries.length);
    preview.textContent = [
      countries.length ? t('console.restrict_in', { count: countries.length, countries: countries.join(', ') }) : '',
      unknown.length ? t('console.restrict_unknown', { codes: unknown.join(', ') }) : '',
    ].filter(Boolean).join(' ');
  }
  input.addEventListener('input', update);
  categorySelect.addEventListener('change', update);
  jurisdictions({ fresh: true }).then((d) => {
    data = d;
    update();
  }, (err) => { preview.textContent = errorText(err); });

  return {
    el: h('div', { class: 'jur-territory' }, f, preview),
    countries: () => parseCodes(input.value),
  };
}

// restrictionsSection lists the territorial restrictions in force on a
// chat and its messages (GET /moderation/chats/{id}/restrictions), with
// where each applies today; data is GET /jurisdictions, or null if it
// could not be had, when the server's own words say where.
export function restrictionsSection(list, data) {
  const items = list.map((r) => {
    let where;
    if (r.scope.length) where = r.scope.map((c) => (data ? scopeText(c, data) : c)).join(', ');
    else if (!data) where = r.where;
    else {
      const now = illegalIn(r.category, data).map((w) => w.country);
      where = now.length ? t('console.restrict_by_rules_now', { countries: now.join(', ') }) : t('console.restrict_by_rules_nowhere');
    }
    return h('li', { class: 'restriction', dataset: { id: String(r.id), seq: String(r.seq) } },
      h('div', { class: 'sig-head' },
        h('strong', {}, r.seq ? t('console.restriction_message', { seq: r.seq }) : t('console.restriction_chat')),
        r.category ? ` · ${categoryLabel(r.category)}` : '',
        r.legal_reference ? ` (${r.legal_reference})` : '',
        h('span', { class: 'muted' }, ` · ${formatDateTime(r.created_at)}`)),
      h('p', { class: 'restriction-where' }, t('console.restriction_where', { where })));
  });
  return h('section', { class: 'case-section case-restrictions', 'aria-labelledby': 'case-restrictions-title' },
    h('h3', { id: 'case-restrictions-title' }, t('console.restrictions')),
    items.length ? h('ul', { class: 'actions-taken' }, items) : h('p', { class: 'muted' }, t('console.none')));
}
