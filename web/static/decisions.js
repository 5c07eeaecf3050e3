// "Reports and decisions": the statements of reasons for what the
// moderators did to the user's content or account, each with a way to
// appeal it, and the user's own reports with how they were decided.
import { api, errorText } from './api.js';
import { t, language } from './i18n.js';
import { h, replace, icon, field, showError, toast, formatDateTime } from './dom.js';
import { store, userName, on, emit } from './store.js';
import { reasons, reasonLabel, counted } from './report.js';

const maxAppeal = 2000; // the server's limit

// The decisions about the user that are news to them, taken or reversed
// since they last opened their statements: a count the server keeps, the
// same on every device. The live stream's "decision" nudge, and every
// reconnection (nudges sent meanwhile are lost), refresh it; opening the
// statements clears it. decisionsBadge shows it.
export async function refreshUnseenDecisions() {
  try {
    const r = await api('GET', '/statements/unseen');
    setUnseen(r.unseen);
  } catch (err) {
    console.warn('unseen decisions:', err); // the next nudge or reconnection tries again
  }
}

function setUnseen(n) {
  if (store.unseenDecisions === n) return;
  store.unseenDecisions = n;
  emit('decisions-unseen', n);
}

// decisionsBadge is a badge with the count of unseen decisions, hidden at
// none, that follows it while it is on the page; labelled(n) is called
// with each count, for the label of what the badge marks.
export function decisionsBadge(labelled = () => {}) {
  const b = h('span', { class: 'badge decisions-badge', 'aria-hidden': 'true', hidden: true });
  const show = () => {
    const n = store.unseenDecisions || 0;
    b.hidden = n === 0;
    b.textContent = n > 99 ? '99+' : String(n);
    labelled(n);
  };
  const off = on('decisions-unseen', () => {
    // Screens are put on the page as they are made, and the count comes
    // later: a badge no longer there has left with its screen.
    if (!b.isConnected) {
      off();
      return;
    }
    show();
  });
  show();
  return b;
}

function actionTitle(action) {
  switch (action) {
    case 'remove_message': return t('decisions.action_remove_message');
    case 'takedown': return t('decisions.action_takedown');
    case 'suspend': return t('decisions.action_suspend');
    case 'ban': return t('decisions.action_ban');
    case 'label': return t('decisions.action_label');
    case 'restrict': return t('decisions.action_restrict');
    default: return action;
  }
}

function chatName(id) {
  const d = store.dialogs.get(id);
  return d ? d.chat.title || t('decisions.chat_n', { id }) : t('decisions.chat_n', { id });
}

// subjectText says what a report was about.
function subjectText(s) {
  switch (s.kind) {
    case 'message': return t('decisions.subject_message', { chat: chatName(s.chat_id) });
    case 'chat': return t('decisions.subject_chat', { chat: chatName(s.chat_id) });
    case 'user': return t('decisions.subject_user', { name: userName(s.user_id) });
    default: return s.kind;
  }
}

// reportState says where a report stands, in words.
function reportState(r) {
  if (r.reversal) return r.reversal.by_appeal ? t('decisions.report_reversed_appeal') : t('decisions.report_reversed');
  if (r.state === 'resolved') return r.outcome === 'actioned' ? t('decisions.report_actioned') : t('decisions.report_dismissed');
  if (r.state === 'escalated') return t('decisions.report_escalated');
  return t('decisions.report_open');
}

export function decisionsScreen() {
  const statements = h('div', { class: 'statements' });
  const reports = h('ul', { class: 'devices my-reports', 'aria-labelledby': 'my-reports-title' });
  const status = h('p', { class: 'muted', 'aria-live': 'polite' }, t('decisions.loading'));
  const el = h('section', { class: 'settings decisions', 'aria-labelledby': 'decisions-title' },
    h('header', { class: 'conv-head' },
      h('a', { href: '/settings', class: 'icon-btn back always', 'aria-label': t('decisions.back'), title: t('decisions.back') }, icon('back')),
      h('h2', { id: 'decisions-title', tabindex: '-1' }, t('decisions.title'))),
    h('div', { class: 'settings-body' },
      status,
      h('section', { 'aria-labelledby': 'statements-title' },
        h('h3', { id: 'statements-title' }, t('decisions.about_you')),
        h('p', { class: 'muted' }, t('decisions.about_you_text')),
        statements),
      h('section', { 'aria-labelledby': 'my-reports-title' },
        h('h3', { id: 'my-reports-title' }, t('decisions.my_reports')),
        reports)));
  let closed = false;

  async function load() {
    const lang = language();
    try {
      const [st, rp, list] = await Promise.all([
        api('GET', `/statements?lang=${encodeURIComponent(lang)}`),
        api('GET', '/reports'),
        reasons().catch(() => []),
      ]);
      if (closed) return;
      setUnseen(0); // read now, on every device
      status.hidden = true;
      replace(statements, ...(st.statements.length
        ? st.statements.map(statement) : [h('p', { class: 'muted' }, t('decisions.none'))]));
      replace(reports, ...(rp.reports.length
        ? rp.reports.map((r) => report(r, list)) : [h('li', { class: 'muted' }, t('decisions.no_reports'))]));
    } catch (err) {
      if (closed) return;
      status.hidden = false;
      status.classList.add('form-error');
      status.textContent = errorText(err);
    }
  }

  function statement(s) {
    const titleId = `statement-${s.id}`;
    // The statement's own words are in the language it was written in.
    const row = (label, value, attrs = {}) => (value ? [h('dt', {}, label), h('dd', { dir: 'auto', lang: s.lang, ...attrs }, value)] : null);
    const duration = s.until ? `${s.duration} (${formatDateTime(s.until)})` : s.duration;
    const appeal = s.appeal;
    const art = h('article', { class: `statement${s.reversed ? ' reversed' : ''}`, dataset: { id: String(s.id) }, 'aria-labelledby': titleId },
      h('header', { class: 'statement-head' },
        h('h4', { id: titleId }, actionTitle(s.action)),
        s.reversed ? h('span', { class: 'tag' }, t('decisions.reversed_tag')) : null,
        h('time', { class: 'muted', datetime: s.decided_at }, formatDateTime(s.decided_at))),
      h('dl', { class: 'facts' },
        row(t('decisions.restriction'), s.restriction),
        row(t('decisions.category'), s.category),
        row(t('decisions.ground'), s.ground_url
          ? [s.ground, ' ', h('a', { href: s.ground_url, target: '_blank', rel: 'noopener', class: 'ground-link' }, t('decisions.ground_link'))]
          : s.ground),
        row(t('decisions.facts'), s.facts),
        row(t('decisions.scope'), s.territorial_scope),
        row(t('decisions.duration'), duration),
        row(t('decisions.automation'), s.automation),
        row(t('decisions.redress'), s.redress),
        row(t('decisions.appeal_until'), formatDateTime(s.appeal_until)),
        row(t('decisions.reversed'), s.reversed),
        appeal ? row(t('decisions.your_appeal'), appeal.text) : null,
        appeal ? row(t('decisions.appeal_status'), appeal.status || appeal.state, { class: 'appeal-status' }) : null,
        appeal && appeal.reason ? row(t('decisions.appeal_reason'), appeal.reason) : null));
    if (s.can_appeal) art.append(appealForm(s));
    return art;
  }

  function appealForm(s) {
    const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const textField = field(t('decisions.appeal_label'), {
      tag: 'textarea', name: 'text', rows: '3', maxlength: String(maxAppeal), dir: 'auto', required: true,
      hint: t('decisions.appeal_hint'),
    });
    const input = textField.querySelector('textarea');
    const counter = h('p', { class: 'hint count', 'aria-hidden': 'true' });
    textField.append(counter);
    counted(input, counter, maxAppeal);
    const submit = h('button', { type: 'submit', class: 'btn primary' }, t('decisions.appeal_send'));
    const form = h('form', { class: 'appeal-form stack', novalidate: true }, textField, box, h('div', { class: 'actions start' }, submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (submit.disabled) return;
      const text = input.value.trim();
      if (!text) {
        showError(form, box, { field: 'text' }, t('decisions.appeal_required'));
        return;
      }
      submit.disabled = true;
      submit.setAttribute('aria-busy', 'true');
      try {
        await api('POST', `/statements/${s.id}/appeal`, { text });
        toast(t('decisions.appeal_sent'));
        await load();
        // Where the appeal now shows, for the keyboard and screen readers.
        const st = statements.querySelector(`article.statement[data-id="${s.id}"] .appeal-status`);
        if (st) { st.tabIndex = -1; st.focus(); }
      } catch (err) {
        showError(form, box, err, errorText(err));
      } finally {
        submit.disabled = false;
        submit.removeAttribute('aria-busy');
      }
    });
    return form;
  }

  function report(r, list) {
    return h('li', { class: 'device my-report', dataset: { id: String(r.id) } },
      h('div', {},
        h('p', { class: 'device-name', dir: 'auto' }, subjectText(r.subject)),
        h('p', { class: 'muted' }, `${reasonLabel(list, r.reason)} · ${formatDateTime(r.created_at)}`),
        r.comment ? h('p', { class: 'muted', dir: 'auto' }, r.comment) : null),
      h('span', { class: `tag state-${r.state}${r.outcome ? ` outcome-${r.outcome}` : ''}` }, reportState(r)));
  }

  load();
  return {
    el,
    focus: () => el.querySelector('h2').focus(),
    leave: () => { closed = true; },
  };
}
