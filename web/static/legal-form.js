// The law-enforcement portal's form for filing a request, and the picker
// that attaches legal documents to a request once it is filed: PDF, PNG or
// JPEG files, checked here before anything is sent and uploaded one by one
// with their progress.
import { ApiError, upload, errorText } from './api.js';
import { t } from './i18n.js';
import { h, replace, field, showError, formatSize, iconButton } from './dom.js';
import {
  kinds, kindLabel, kindHint, processesFor, processLabel, dataKinds, categories, categoryLabel, categoryHint,
  targetKinds, targetKindLabel, targetPlaceholder,
} from './legal-labels.js';
import { countryOptions } from './jurisdiction.js';

// The server's limits on documents.
export const maxDocument = 20 << 20;
export const maxDocuments = 10;
const documentTypes = { pdf: 'application/pdf', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg' };
const maxTargets = 50;

// draft is what was typed into the form, kept while the page is drawn again
// (in another language, say) and forgotten once the request is filed.
let draft = null;

// forgetDraft forgets what was typed into the form, as logging out does.
export function forgetDraft() {
  draft = null;
}

// group is a fieldset that can carry a problem's error for field name, as
// showError expects of an input: it is named, focusable and has a place
// for the message.
function group(name, legend, ...children) {
  const id = `f-${name}`;
  return h('fieldset', { class: 'le-group', name, id, tabindex: '-1' },
    h('legend', {}, legend),
    ...children,
    h('p', { class: 'field-error', id: `${id}-err`, hidden: true }));
}

function checkbox(name, value, label, hint, attrs = {}) {
  const id = `f-${name}-${value}`;
  return h('div', { class: 'check-row le-check' },
    h('input', { type: 'checkbox', id, name, value, 'aria-describedby': hint ? `${id}-hint` : null, ...attrs }),
    h('div', {},
      h('label', { for: id }, label),
      hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null));
}

// docProblem says what is wrong with a file as a legal document, or ''.
export function docProblem(file) {
  const ext = (file.name.split('.').pop() || '').toLowerCase();
  if (!documentTypes[ext] && !Object.values(documentTypes).includes(file.type)) return t('legal.doc_type', { name: file.name });
  if (file.size > maxDocument) return t('legal.doc_size', { name: file.name, max: formatSize(maxDocument) });
  if (file.size === 0) return t('legal.doc_empty', { name: file.name });
  return '';
}

// documentPicker is a file input for legal documents with the list of the
// files chosen, each checked at once. files() returns the files chosen;
// check() throws an ApiError on field "documents" if one cannot be sent.
export function documentPicker({ already = 0, label = t('legal.documents'), after = '' } = {}) {
  const id = `f-documents-${Math.random().toString(36).slice(2, 7)}`;
  const input = h('input', {
    type: 'file', id, name: 'documents', multiple: true, class: 'le-file',
    accept: '.pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg', 'aria-describedby': `${id}-hint`,
  });
  const chosen = h('ul', { class: 'le-chosen', 'aria-live': 'polite' });
  const show = () => replace(chosen, [...input.files].map((f) => {
    const bad = docProblem(f);
    return h('li', { class: bad ? 'bad' : null },
      h('bdi', { dir: 'auto' }, f.name), ' ', h('span', { class: 'muted' }, formatSize(f.size)),
      bad ? h('span', { class: 'field-error' }, bad) : null);
  }));
  input.addEventListener('change', show);
  const el = h('div', { class: 'field le-documents' },
    h('label', { for: id }, label),
    input,
    h('p', { class: 'hint', id: `${id}-hint` }, t('legal.documents_hint', { max: formatSize(maxDocument), count: maxDocuments }), after ? ` ${after}` : ''),
    chosen,
    h('p', { class: 'field-error', id: `${id}-err`, hidden: true }));
  return {
    el,
    input,
    files: () => [...input.files],
    check() {
      const files = [...input.files];
      if (files.length + already > maxDocuments) throw new ApiError({ field: 'documents', detail: t('legal.doc_count', { count: maxDocuments }) });
      for (const f of files) {
        const bad = docProblem(f);
        if (bad) throw new ApiError({ field: 'documents', detail: bad });
      }
    },
    clear() {
      input.value = '';
      show();
    },
  };
}

// attachAll uploads files to request id one after another, showing each
// one's progress in list, and resolves to the failures: [{file, err}].
export async function attachAll(id, files, list, bearer) {
  const failed = [];
  const rows = files.map((f) => {
    const bar = h('progress', { max: '1', value: '0', 'aria-label': t('legal.uploading', { name: f.name }) });
    const pct = h('span', { class: 'pct' }, '0%');
    const state = h('span', { class: 'le-up-state' });
    const li = h('li', { class: 'le-upload' }, h('bdi', { dir: 'auto' }, f.name), bar, pct, state);
    return { f, li, bar, pct, state };
  });
  replace(list, rows.map((r) => r.li));
  list.hidden = !rows.length;
  for (const r of rows) {
    try {
      await upload(r.f, (x) => {
        r.bar.value = x;
        r.pct.textContent = `${Math.round(x * 100)}%`;
      }, { path: `/legal/requests/${id}/documents`, bearer }).done;
      r.bar.value = 1;
      r.pct.textContent = '100%';
      r.state.textContent = t('legal.uploaded');
      r.li.classList.add('done');
    } catch (err) {
      r.state.textContent = errorText(err);
      r.state.classList.add('field-error');
      r.li.classList.add('failed');
      failed.push({ file: r.f, err });
    }
  }
  return failed;
}

// requestForm is the form for filing a request. file(body) files it and
// resolves to the request; attached(request, failures) runs once the
// documents are uploaded.
export function requestForm({ file, bearer, attached }) {
  const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const kindSel = h('select', { id: 'f-kind', name: 'kind', required: true, 'aria-describedby': 'f-kind-hint' },
    kinds.map((k) => h('option', { value: k }, kindLabel(k))));
  const kindText = h('p', { class: 'hint', id: 'f-kind-hint' });
  const processSel = h('select', { id: 'f-process', name: 'process', required: true });
  const targets = h('ol', { class: 'le-target-rows' });
  const addTarget = h('button', { type: 'button', class: 'btn small le-add-target' }, t('legal.add_target'));
  const cats = group('categories', t('legal.f.categories'),
    h('p', { class: 'hint' }, t('legal.categories_hint')),
    categories.map((c) => checkbox('categories', c, categoryLabel(c), categoryHint(c))),
    h('p', { class: 'le-note', role: 'note' }, t('legal.content_note')));
  const nd = h('input', { type: 'checkbox', id: 'f-nondisclosure', name: 'nondisclosure', value: '1', 'aria-describedby': 'f-nondisclosure-hint' });
  const ndUntil = field(t('legal.f.nondisclosure_until'), { name: 'nondisclosure_until', type: 'date', hint: t('legal.nondisclosure_until_hint') });
  const docs = documentPicker({ after: t('legal.documents_after') });
  const jurisdiction = field(t('legal.f.jurisdiction'), { tag: 'select', name: 'jurisdiction', hint: t('legal.jurisdiction_hint') });
  jurisdiction.querySelector('select').append(h('option', { value: '' }, t('legal.jurisdiction_agency')), ...countryOptions());
  const uploads = h('ul', { class: 'le-uploads', 'aria-live': 'polite', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn primary' }, t('legal.file_submit'));

  const form = h('form', { class: 'stack le-form', novalidate: true, 'aria-labelledby': 'le-new-title' },
    h('div', { class: 'le-cols' },
      h('div', { class: 'field' }, h('label', { for: 'f-kind' }, t('legal.f.kind')), kindSel, kindText,
        h('p', { class: 'field-error', id: 'f-kind-err', hidden: true })),
      h('div', { class: 'field' }, h('label', { for: 'f-process' }, t('legal.f.process')), processSel,
        h('p', { class: 'field-error', id: 'f-process-err', hidden: true }))),
    h('div', { class: 'le-cols' },
      field(t('legal.f.case_reference'), { name: 'case_reference', required: true, maxlength: '200', autocomplete: 'off', dir: 'auto', hint: t('legal.case_reference_hint') }),
      field(t('legal.f.issuing_authority'), { name: 'issuing_authority', required: true, maxlength: '300', autocomplete: 'off', dir: 'auto', hint: t('legal.issuing_authority_hint') })),
    field(t('legal.f.legal_basis'), { tag: 'textarea', name: 'legal_basis', required: true, rows: '3', maxlength: '2000', dir: 'auto', hint: t('legal.legal_basis_hint') }),
    jurisdiction,
    group('targets', t('legal.f.targets'), h('p', { class: 'hint' }, t('legal.targets_hint')), targets, addTarget),
    group('period', t('legal.f.period'),
      h('p', { class: 'hint' }, t('legal.period_hint')),
      h('div', { class: 'le-cols' },
        field(t('legal.f.date_from'), { name: 'date_from', type: 'date' }),
        field(t('legal.f.date_to'), { name: 'date_to', type: 'date' }))),
    cats,
    field(t('legal.f.description'), { tag: 'textarea', name: 'description', rows: '4', maxlength: '10000', dir: 'auto', hint: t('legal.description_hint') }),
    h('div', { class: 'le-cols' },
      field(t('legal.f.deadline'), { name: 'deadline', type: 'datetime-local', hint: t('legal.deadline_hint') }),
      h('div', { class: 'le-nd' },
        h('div', { class: 'field le-checkfield' },
          h('div', { class: 'check-row' }, nd, h('label', { for: 'f-nondisclosure' }, t('legal.f.nondisclosure'))),
          h('p', { class: 'hint', id: 'f-nondisclosure-hint' }, t('legal.nondisclosure_hint'))),
        ndUntil)),
    docs.el,
    box,
    uploads,
    h('div', { class: 'actions start' }, submit, h('a', { href: '/legal', class: 'btn' }, t('common.cancel'))));

  function targetRow(kind = 'user', value = '') {
    const n = targets.children.length + 1;
    const sel = h('select', { name: 'target_kind', 'aria-label': t('legal.target_kind_n', { n }) },
      targetKinds.map((k) => h('option', { value: k }, targetKindLabel(k))));
    sel.value = kind;
    const input = h('input', {
      name: 'target_value', value, autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none', dir: 'ltr',
      'aria-label': t('legal.target_value_n', { n }), placeholder: targetPlaceholder(kind), maxlength: '300',
    });
    sel.addEventListener('change', () => { input.placeholder = targetPlaceholder(sel.value); });
    const li = h('li', { class: 'le-target-row' }, sel, input,
      iconButton('close', t('legal.remove_target_n', { n }), {
        class: 'icon-btn le-remove-target',
        onclick: () => {
          li.remove();
          renumber();
          (targets.querySelector('input') || addTarget).focus();
        },
      }));
    targets.append(li);
    renumber();
    return input;
  }

  function renumber() {
    [...targets.children].forEach((li, i) => {
      const n = i + 1;
      li.querySelector('select').setAttribute('aria-label', t('legal.target_kind_n', { n }));
      li.querySelector('input').setAttribute('aria-label', t('legal.target_value_n', { n }));
      li.querySelector('button').setAttribute('aria-label', t('legal.remove_target_n', { n }));
      li.querySelector('button').title = t('legal.remove_target_n', { n });
      li.querySelector('button').hidden = targets.children.length === 1;
    });
    addTarget.hidden = targets.children.length >= maxTargets;
  }

  addTarget.addEventListener('click', () => targetRow().focus());

  // The process and the data categories follow the kind of request.
  function kindChanged() {
    const k = kindSel.value;
    kindText.textContent = kindHint(k);
    const was = processSel.value;
    replace(processSel, processesFor[k].map((p) => h('option', { value: p }, processLabel(p))));
    if (processesFor[k].includes(was)) processSel.value = was;
    cats.hidden = !dataKinds.includes(k);
    form.elements.description.required = k === 'emergency';
  }
  kindSel.addEventListener('change', kindChanged);
  nd.addEventListener('change', () => { ndUntil.hidden = !nd.checked; });

  // Restore a draft, or start with one empty target.
  const d = draft;
  if (d) {
    kindSel.value = d.kind;
    kindChanged();
    processSel.value = d.process;
    for (const [name, v] of Object.entries(d.fields)) if (form.elements[name]) form.elements[name].value = v;
    for (const c of form.querySelectorAll('input[name="categories"]')) c.checked = d.categories.includes(c.value);
    nd.checked = d.nondisclosure;
    for (const x of d.targets) targetRow(x.kind, x.value);
  }
  if (!targets.children.length) targetRow();
  if (!d) kindChanged();
  ndUntil.hidden = !nd.checked;

  const textFields = ['case_reference', 'issuing_authority', 'legal_basis', 'jurisdiction', 'date_from', 'date_to', 'description', 'deadline', 'nondisclosure_until'];
  function values() {
    const f = form.elements;
    const fields = {};
    for (const name of textFields) fields[name] = f[name].value;
    return {
      kind: kindSel.value,
      process: processSel.value,
      fields,
      categories: [...form.querySelectorAll('input[name="categories"]:checked')].map((c) => c.value),
      nondisclosure: nd.checked,
      targets: [...targets.children].map((li) => ({ kind: li.querySelector('select').value, value: li.querySelector('input').value })),
    };
  }
  form.addEventListener('input', () => { draft = values(); });
  form.addEventListener('change', () => { draft = values(); });

  // dayStart and dayEnd are a date input's day in the officer's time zone.
  const dayStart = (v) => (v ? new Date(`${v}T00:00:00`).toISOString() : undefined);
  const dayEnd = (v) => (v ? new Date(`${v}T23:59:59`).toISOString() : undefined);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = values();
    const f = v.fields;
    const body = {
      kind: v.kind,
      process: v.process,
      case_reference: f.case_reference.trim(),
      legal_basis: f.legal_basis.trim(),
      issuing_authority: f.issuing_authority.trim(),
      jurisdiction: f.jurisdiction.trim().toUpperCase() || undefined,
      targets: v.targets.map((x) => ({ kind: x.kind, value: x.value.trim() })).filter((x) => x.value),
      date_from: dayStart(f.date_from),
      date_to: dayEnd(f.date_to),
      categories: dataKinds.includes(v.kind) ? v.categories : undefined,
      description: f.description.trim() || undefined,
      deadline: f.deadline ? new Date(f.deadline).toISOString() : undefined,
      nondisclosure: v.nondisclosure || undefined,
      nondisclosure_until: v.nondisclosure ? dayEnd(f.nondisclosure_until) : undefined,
    };
    try {
      // What can be checked here is, before anything is filed.
      for (const name of ['case_reference', 'issuing_authority', 'legal_basis']) {
        if (!body[name]) throw new ApiError({ field: name, detail: t('auth.fill_in') });
      }
      if (!body.targets.length) throw new ApiError({ field: 'targets', detail: t('legal.targets_required') });
      if (body.categories && !body.categories.length) throw new ApiError({ field: 'categories', detail: t('legal.categories_required') });
      if (v.kind === 'emergency' && !body.description) throw new ApiError({ field: 'description', detail: t('legal.description_required') });
      docs.check();
    } catch (err) {
      showError(form, box, err, err.detail);
      return;
    }
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    let q;
    try {
      q = await file(body);
    } catch (err) {
      submit.disabled = false;
      submit.removeAttribute('aria-busy');
      showError(form, box, fieldOf(err), errorText(err));
      return;
    }
    draft = null;
    showError(form, box, null, '');
    for (const el of form.querySelectorAll('input, select, textarea, button')) el.disabled = true;
    const failed = await attachAll(q.id, docs.files(), uploads, bearer);
    attached(q, failed);
  });

  return { form, focus: () => kindSel.focus() };
}

// fieldOf points a server's problem at the form's element for it.
function fieldOf(err) {
  const names = { nondisclosure: 'nondisclosure_until', date_from: 'period', date_to: 'period', category: 'kind' };
  if (err && names[err.field]) return Object.assign(Object.create(Object.getPrototypeOf(err)), err, { field: names[err.field] });
  return err;
}
