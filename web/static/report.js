// Reporting a message, a group or channel, or a person to the moderators,
// from wherever it is shown: one dialog with the reasons the server offers
// (in the language of the app) and room for a comment.
import { api, errorText } from './api.js';
import { t, language } from './i18n.js';
import { h, field, openDialog, showError, toast } from './dom.js';

const maxComment = 2000; // the server's limit

// reasons is the promise of the report reasons ({id, label}) in the app's
// language, fetched once per language. A failed fetch is forgotten, so the
// next call tries again.
const reasonLists = new Map();

export function reasons() {
  const lang = language();
  let p = reasonLists.get(lang);
  if (!p) {
    p = api('GET', `/report-reasons?lang=${encodeURIComponent(lang)}`).then((r) => r.reasons);
    reasonLists.set(lang, p);
    p.catch(() => { if (reasonLists.get(lang) === p) reasonLists.delete(lang); });
  }
  return p;
}

// reasonLabel is how a reason is named in the app's language, or its id
// while the list is not known.
export function reasonLabel(list, id) {
  return (list || []).find((r) => r.id === id)?.label || id;
}

// fillReasons puts the reasons into a <select>, after a first empty choice
// that asks for one.
export function fillReasons(select, list, chosen = '') {
  select.replaceChildren(
    h('option', { value: '' }, t('report.reason_choose')),
    ...list.map((r) => h('option', { value: r.id, selected: r.id === chosen }, r.label)));
}

// counted wires a counter ("12 / 2000") under a text field.
export function counted(input, counter, max) {
  const update = () => {
    const n = [...input.value].length;
    counter.textContent = t('report.count', { count: n, max });
    counter.classList.toggle('over', n > max);
  };
  input.addEventListener('input', update);
  update();
}

// reportDialog asks why subject ({kind: 'message', chat_id, seq},
// {kind: 'chat', chat_id} or {kind: 'user', user_id}) should be looked at,
// and files the report. title names the dialog; what describes the subject
// to the reporter, and note, if given, says more; returnTo, if given, takes
// the focus back when it closes. A report filed some other way (a secret
// chat's, with its franking proof) gives file(reason, comment), the
// comment's limit and the words that confirm it.
export function reportDialog(subject, {
  title, what, note = null, returnTo = null,
  file = (reason, comment) => api('POST', '/reports', { subject, reason, comment }),
  limit = maxComment, sent = t('report.sent'),
}) {
  const dlg = openDialog(title, (close) => {
    const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const reasonField = field(t('report.reason'), { tag: 'select', name: 'reason', required: true });
    const select = reasonField.querySelector('select');
    select.append(h('option', { value: '' }, t('report.loading')));
    const commentField = field(t('report.comment'), {
      tag: 'textarea', name: 'comment', rows: '3', maxlength: String(limit), dir: 'auto', hint: t('report.comment_hint'),
    });
    const comment = commentField.querySelector('textarea');
    const counter = h('p', { class: 'hint count', 'aria-hidden': 'true' });
    commentField.append(counter);
    counted(comment, counter, limit);
    const submit = h('button', { type: 'submit', class: 'btn primary' }, t('report.send'));
    const form = h('form', { class: 'report-form stack', novalidate: true },
      h('p', { class: 'report-what', dir: 'auto' }, what),
      note ? h('p', { class: 'muted' }, note) : null,
      reasonField, commentField, box,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', onclick: close }, t('common.cancel')), submit));

    let loaded = false;
    const load = () => reasons().then((list) => {
      loaded = true;
      fillReasons(select, list, select.value);
    });
    load().catch((err) => showError(form, box, null, errorText(err)));

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (submit.disabled) return;
      submit.disabled = true;
      submit.setAttribute('aria-busy', 'true');
      try {
        if (!loaded) await load();
        const v = Object.fromEntries(new FormData(form));
        if (!v.reason) {
          showError(form, box, { field: 'reason' }, t('report.reason_required'));
          return;
        }
        await file(v.reason, v.comment.trim());
        close();
        toast(sent);
      } catch (err) {
        if (err.reason === 'already_reported') showError(form, box, null, t('report.already'));
        else showError(form, box, err, errorText(err));
      } finally {
        submit.disabled = false;
        submit.removeAttribute('aria-busy');
      }
    });
    return h('div', { class: 'modal-body' }, form);
  });
  dlg.addEventListener('close', () => { if (returnTo && returnTo.isConnected) returnTo.focus(); });
}
