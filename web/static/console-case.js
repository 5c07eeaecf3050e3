// A case in the moderation console: what was reported, in its context (the
// messages around it, removed ones included, and its media blurred until
// the reviewer reveals them), the signals with their evidence (what the
// server verified, such as a reported secret-chat message, set apart from
// what reporters wrote), the chat, the history and the actions taken; and
// the buttons that sort or decide it, each opening a form with reason
// templates. Beside it, the accounts concerned: their standing, the
// decisions against them and their record as reporters. A notice is shown
// whole (the location as given, the full explanation, the mail sent to its
// notifier); a notice whose location named nothing can be linked to the
// message, chat or account it means. The case refreshes itself, keeping
// what the reviewer typed.
import { api, blobURL, errorText, ApiError } from './api.js';
import { t } from './i18n.js';
import { h, icon, replace, field, openDialog, showError, toast, formatDateTime, formatSize } from './dom.js';
import { store, lookupUser } from './store.js';
import { navigate } from './nav.js';
import {
  can, loadCategories, categoryLabel, sourceLabel, stateLabel, actionLabel, groundLabel, eventLabel, person, subjectText,
  relativeTime, priorityLevel, labels, warningLabel, loadPeople, knownAccount, forgetAccount,
} from './console-labels.js';
import { jurisdictions, territoryField, restrictionsSection, scopeText } from './console-jurisdictions.js';

const refreshEvery = 10000;

// caseView shows case id; queuePath is where Escape and a decision go back
// to, and notStaff is called when the server says the viewer is not staff.
export function caseView(id, { queuePath, notStaff }) {
  const role = store.me.role;
  const title = h('h2', { id: 'case-title' }, t('console.case_n', { id }));
  const body = h('div', { class: 'case-body' }, h('p', { class: 'loading' }, t('console.loading')));
  const el = h('section', { class: 'console-case', 'aria-labelledby': 'case-title' },
    h('div', { class: 'console-bar' },
      h('a', { href: queuePath, class: 'btn small', 'aria-keyshortcuts': 'Escape' }, t('console.back')),
      title),
    body);
  let d = null;
  let restrictions = null; // those in force on the case's chat, for a case about a chat or message
  let laws = null; // GET /jurisdictions, for where restrictions by country rules apply
  let shown = ''; // the case as last rendered, to skip refreshes that change nothing
  let closed = false;
  const revealed = new Set(); // media the reviewer chose to see unblurred

  // load fetches the case and shows it if it changed. While a dialog is
  // open the page is left alone; the next refresh catches up.
  async function load() {
    try {
      await loadCategories().catch(() => {});
      const r = await api('GET', `/moderation/cases/${id}`);
      if (closed) return;
      await loadPeople(people(r));
      const chat = (r.subject.kind === 'chat' || r.subject.kind === 'message') && r.subject.chat_id;
      const [rs, jur] = chat ? await Promise.all([
        api('GET', `/moderation/chats/${chat}/restrictions`).then((x) => x.restrictions, () => null),
        jurisdictions({ fresh: !laws }).catch(() => null),
      ]) : [null, null];
      const json = JSON.stringify([r, rs, jur]);
      if (closed || json === shown || document.querySelector('dialog[open]')) return;
      restrictions = rs;
      laws = jur;
      d = r;
      shown = json;
      show();
    } catch (err) {
      if (closed) return;
      if (err.status === 403) {
        stop();
        notStaff(err);
        return;
      }
      // A refresh that fails leaves the case as it was shown.
      if (!d) replace(body, h('p', { class: 'form-error', role: 'alert' }, errorText(err)));
    }
  }

  // people are the accounts a case names: reporters, senders, the chat's
  // owner, the reported account, staff in its history and actions.
  function people(r) {
    const ids = [r.assignee_id, r.subject.user_id, r.chat && r.chat.owner_id, r.media_owner_id];
    for (const g of r.signals) ids.push(g.reporter_id, g.evidence && g.evidence.sender_id, g.evidence && g.evidence.recipient_id);
    for (const m of r.messages) ids.push(m.sender_id);
    for (const a of r.actions) ids.push(a.moderator_id, a.reversed_by, a.affected_id);
    for (const e of r.history) {
      ids.push(e.actor_id);
      const m = e.kind === 'assign' && e.note && e.note.match(/^user:(\d+)$/);
      if (m) ids.push(Number(m[1]));
    }
    return ids;
  }

  // show renders the case again, keeping what the reviewer typed, where the
  // focus was and how far down they had scrolled.
  function show() {
    const scroller = el.closest('.console-main');
    const top = scroller ? scroller.scrollTop : 0;
    const values = new Map();
    for (const f of body.querySelectorAll('form[data-form] [name]')) values.set(`${f.form.dataset.form}/${f.name}`, f.value);
    const a = document.activeElement;
    let focus = null;
    if (a && body.contains(a)) {
      if (a.form && a.form.dataset.form && a.name) {
        focus = { css: `form[data-form="${a.form.dataset.form}"] [name="${a.name}"]`, start: a.selectionStart, end: a.selectionEnd };
      } else if (a.dataset.act) {
        focus = { css: `[data-act="${a.dataset.act}"]` };
      }
    }
    render();
    for (const f of body.querySelectorAll('form[data-form] [name]')) {
      const v = values.get(`${f.form.dataset.form}/${f.name}`);
      if (v !== undefined) f.value = v;
    }
    const again = focus && body.querySelector(focus.css);
    if (again) {
      again.focus({ preventScroll: true });
      if (typeof focus.start === 'number' && typeof again.setSelectionRange === 'function') again.setSelectionRange(focus.start, focus.end);
    }
    if (scroller) scroller.scrollTop = top;
  }

  function render() {
    title.textContent = t('console.case_title', { id, category: categoryLabel(d.category) });
    const reported = d.subject.kind === 'message' ? d.subject.seq : 0;
    replace(body, h('div', { class: 'case-grid' },
      h('div', { class: 'case-main' },
        d.media ? section('case-file-title', t('console.file'), fileCard(d.media)) : null,
        d.media && !d.messages.length ? null : section('case-context-title', t('console.context'),
          d.messages.length
            ? h('ol', { class: 'case-context' }, d.messages.map((m) => message(m, m.seq === reported)))
            : h('p', { class: 'muted' }, t('console.no_context'))),
        d.notices && d.notices.length ? section('case-notices-title', t('console.notices'),
          h('ol', { class: 'signals notices' }, d.notices.map(noticeItem))) : null,
        section('case-signals-title', t('console.signals_n', { count: d.signals.length }),
          h('ol', { class: 'signals' }, d.signals.map(signal)))),
      h('div', { class: 'case-side' },
        facts(),
        buttons(),
        ...affected().map(([uid, who]) => accountPanel(uid, who)),
        d.chat ? chatInfo(d.chat) : null,
        // Without jurisdictions on the server, only restrictions there are say anything.
        restrictions && (laws || restrictions.length) ? restrictionsSection(restrictions, laws) : null,
        section('case-actions-title', t('console.actions_taken'),
          d.actions.length ? h('ul', { class: 'actions-taken' }, d.actions.map(actionTaken)) : h('p', { class: 'muted' }, t('console.none'))),
        noteForm(),
        section('case-history-title', t('console.history'),
          h('ol', { class: 'history' }, d.history.map((e) => h('li', {},
            h('time', { datetime: e.at }, formatDateTime(e.at)), ' ',
            h('strong', {}, eventLabel(e.kind)), ' · ', person(e.actor_id),
            e.note ? h('span', { class: 'note', dir: 'auto' }, historyNote(e)) : null)))))));
  }

  function section(headingId, heading, ...content) {
    return h('section', { class: 'case-section', 'aria-labelledby': headingId }, h('h3', { id: headingId }, heading), ...content);
  }

  function facts() {
    const level = priorityLevel(d.priority);
    return h('dl', { class: 'facts case-facts' },
      h('dt', {}, t('console.col.subject')), h('dd', { dir: 'auto' }, subjectText(d.subject, d.chat ? d.chat.title : '')),
      h('dt', {}, t('console.category')), h('dd', {}, categoryLabel(d.category)),
      h('dt', {}, t('console.col.priority')), h('dd', {}, h('span', { class: `prio ${level}` }, String(d.priority))),
      h('dt', {}, t('console.state')), h('dd', {}, d.outcome ? `${stateLabel(d.state)} (${outcomeLabel(d.outcome)})` : stateLabel(d.state)),
      h('dt', {}, t('console.col.due')), h('dd', { class: d.overdue ? 'due overdue' : 'due' },
        h('time', { datetime: d.due_at, title: formatDateTime(d.due_at) }, relativeTime(d.due_at)),
        d.overdue ? h('span', { class: 'overdue-tag' }, t('console.overdue')) : null),
      h('dt', {}, t('console.col.sources')), h('dd', {}, d.sources.map(sourceLabel).join(', ')),
      h('dt', {}, t('console.col.reach')), h('dd', {}, String(d.reach)),
      h('dt', {}, t('console.opened')), h('dd', {}, formatDateTime(d.opened_at)),
      d.lang || d.country ? [h('dt', {}, t('console.origin')), h('dd', { class: 'origin' }, [d.lang, d.country].filter(Boolean).join(' · '))] : null,
      h('dt', {}, t('console.col.assignee')), h('dd', {}, d.assignee_id ? person(d.assignee_id) : t('console.unassigned')));
  }

  // fileCard shows the file of a case about a file, as detection found it:
  // held files are still only their uploader's.
  function fileCard(m) {
    const held = m.status === 'held';
    return h('div', { class: held ? 'case-file held' : 'case-file' },
      held ? h('p', { class: 'held-tag' }, t('console.file_held')) : null,
      reviewMedia({ media_id: m.id, kind: m.kind, name: m.name, size: m.size, thumbnail: m.thumbnail }),
      // The hash names the file everywhere it was posted, for remove_media and the banks.
      h('p', { class: 'file-hash' }, h('span', { class: 'muted' }, t('console.file_sha256')), ' ', h('code', { dir: 'ltr' }, m.sha256)));
  }

  // reportedMessage is the message the case is about, if it is shown.
  function reportedMessage() {
    return d.messages.find((m) => d.subject.kind === 'message' && m.seq === d.subject.seq);
  }

  // affected are the accounts a decision on the case would fall on: the
  // account reported, the reported message's sender or the chat's owner,
  // each with what they are to the case.
  function affected() {
    if (d.subject.kind === 'user') return [[d.subject.user_id, 'subject']];
    if (d.subject.kind === 'media' && d.media_owner_id) return [[d.media_owner_id, 'uploader']];
    const m = reportedMessage();
    if (m && m.sender_id) return [[m.sender_id, 'sender']];
    if (d.subject.kind === 'chat' && d.chat && d.chat.owner_id) return [[d.chat.owner_id, 'owner']];
    return [];
  }

  // accountPanel is what a reviewer needs to know of an account before
  // deciding: its standing, the decisions already taken against it, the
  // cases open about it and how its own reports turned out.
  function accountPanel(uid, who) {
    const headId = `case-account-${uid}`;
    const heading = who === 'subject' ? t('console.account.subject') : who === 'owner' ? t('console.account.owner')
      : who === 'uploader' ? t('console.account.uploader') : t('console.account.sender');
    const a = knownAccount(uid);
    if (!a) return section(headId, heading, h('p', {}, person(uid)), h('p', { class: 'muted' }, t('console.account.unavailable')));
    let standing = t('console.standing.active');
    if (a.state === 'banned') standing = t('console.standing.banned');
    else if (a.state === 'suspended') {
      standing = a.suspended_until ? t('console.standing.suspended_until', { when: formatDateTime(a.suspended_until) }) : t('console.standing.suspended');
    }
    return h('section', { class: `case-section case-account account-${who}`, 'aria-labelledby': headId, dataset: { user: String(uid) } },
      h('h3', { id: headId }, heading),
      h('p', { class: 'account-name', dir: 'auto' }, h('strong', {}, person(uid))),
      h('dl', { class: 'facts' },
        h('dt', {}, t('console.account.standing')),
        h('dd', { class: `standing ${a.state}` }, standing, a.state_reason ? h('span', { class: 'note', dir: 'auto' }, ` — ${a.state_reason}`) : null),
        h('dt', {}, t('console.account.since')), h('dd', {}, formatDateTime(a.created_at)),
        h('dt', {}, t('console.account.open_cases')), h('dd', { class: 'open-cases' }, String(a.open_cases)),
        h('dt', {}, t('console.account.as_reporter')),
        h('dd', { class: 'reporter-record' }, t('console.account.reporter', { reports: a.reports, actioned: a.reports_actioned }))),
      h('h4', {}, t('console.account.decisions')),
      a.actions.length
        ? h('ul', { class: 'account-decisions' }, a.actions.map((x) => h('li', { class: x.reversed_at ? 'reversed' : '' },
          h('strong', {}, actionLabel(x.kind)), ' · ', categoryLabel(x.category), ' · ',
          h('time', { datetime: x.created_at }, formatDateTime(x.created_at)), ' · ',
          h('a', { href: `/console/cases/${x.case_id}` }, t('console.case_n', { id: x.case_id })),
          x.reversed_at ? [' ', h('span', { class: 'cm-tag reversed-tag' }, t('console.account.reversed'))] : null)))
        : h('p', { class: 'muted' }, t('console.account.no_decisions')));
  }

  // buttons are the steps the reviewer's role allows on this case.
  function buttons() {
    const open = d.state !== 'resolved';
    const sort = open && can(role, 'sort');
    const act = open && can(role, 'act');
    const reportedMsg = reportedMessage();
    const held = !!(reportedMsg && reportedMsg.held) || !!(d.media && d.media.status === 'held');
    const chatOK = d.chat && d.chat.kind !== 'private' && !d.chat.taken_down_at;
    const mine = d.assignee_id === store.me.id;
    const b = (kind, label, show, onclick, cls = 'btn') => (show
      ? h('button', { type: 'button', class: cls, dataset: { act: kind }, onclick, 'aria-keyshortcuts': shortcut(kind) }, label)
      : null);
    const list = [
      b('assign', mine ? t('console.unassign') : t('console.assign_me'), sort, () => assign(mine ? 0 : store.me.id)),
      b('escalate', actionLabel('escalate'), sort && d.state === 'open', () => escalateDialog()),
      b('remove_message', actionLabel('remove_message'), act && reportedMsg && !reportedMsg.removed_at && !reportedMsg.deleted,
        () => actDialog('remove_message'), 'btn danger'),
      b('remove_media', actionLabel('remove_media'), act && (d.subject.kind === 'media' || (d.subject.kind === 'message' && !!d.media)),
        () => actDialog('remove_media'), 'btn danger'),
      b('takedown', actionLabel('takedown'), act && (d.subject.kind === 'message' || d.subject.kind === 'chat') && chatOK,
        () => actDialog('takedown'), 'btn danger'),
      b('label', actionLabel('label'), act && (d.subject.kind === 'message' || d.subject.kind === 'chat') && chatOK,
        () => actDialog('label')),
      // Withheld where the law requires: a message anywhere, or a whole group or channel.
      b('restrict', actionLabel('restrict'), act && ((d.subject.kind === 'message' && reportedMsg && !reportedMsg.removed_at && !reportedMsg.deleted)
        || (d.subject.kind === 'chat' && chatOK)), () => actDialog('restrict'), 'btn danger'),
      b('suspend', actionLabel('suspend'), act && d.subject.kind !== 'notice', () => actDialog('suspend'), 'btn danger'),
      b('ban', actionLabel('ban'), act && d.subject.kind !== 'notice', () => actDialog('ban'), 'btn danger'),
      b('dismiss', held ? t('console.dismiss_release') : actionLabel('dismiss'), act, () => dismissDialog(held)),
    ].filter(Boolean);
    let note = null;
    if (!open) note = t('console.resolved_note');
    else if (!can(role, 'act')) note = t('console.triage_note');
    return h('section', { class: 'case-section', 'aria-labelledby': 'case-steps-title' },
      h('h3', { id: 'case-steps-title' }, t('console.decide')),
      list.length ? h('div', { class: 'case-buttons' }, list) : null,
      sort && d.subject.kind === 'notice' ? linkForm() : null,
      sort ? assignForm() : null,
      note ? h('p', { class: 'hint' }, note) : null);
  }

  // assignForm gives the case to a member of staff named by @username.
  function assignForm() {
    const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const form = h('form', { class: 'assign-form', novalidate: true, dataset: { form: 'assign' } },
      field(t('console.assign_to'), { name: 'assignee', autocomplete: 'off', spellcheck: 'false', dir: 'ltr', placeholder: '@username', maxlength: '64' }),
      h('button', { type: 'submit', class: 'btn' }, t('console.assign')),
      box);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      step(form, box, async () => {
        const name = form.elements.assignee.value.trim().replace(/^@/, '');
        if (!name) throw new ApiError({ field: 'assignee', detail: t('auth.fill_in') });
        let u;
        try {
          u = await lookupUser(name);
        } catch (err) {
          if (err.status === 404) throw new ApiError({ status: 404, field: 'assignee', detail: t('console.no_such_user', { name }) });
          throw err;
        }
        try {
          await api('POST', `/moderation/cases/${id}/assign`, { user_id: u.id });
        } catch (err) {
          // The server names the account by its number; the reviewer typed a name.
          if (err.reason === 'not_staff') throw new ApiError({ status: err.status, field: 'assignee', detail: t('console.not_staff_user', { name }) });
          throw err;
        }
        await loadPeople([u.id]);
        form.elements.assignee.value = '';
        toast(t('console.assigned_to', { name: person(u.id) }));
        await load();
      });
    });
    return form;
  }

  // linkForm points a notice's case, whose location named nothing, at what
  // the reviewer found it means; if that has a case already the notice
  // joins it, and the reviewer goes there.
  function linkForm() {
    const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const form = h('form', { class: 'link-form', novalidate: true, dataset: { form: 'link' } },
      field(t('console.link_to'), { name: 'subject', autocomplete: 'off', spellcheck: 'false', dir: 'ltr', maxlength: '2000',
        placeholder: 'https://…/chats/5', hint: t('console.link_hint') }),
      h('button', { type: 'submit', class: 'btn' }, t('console.link')),
      box);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      step(form, box, async () => {
        const subject = form.elements.subject.value.trim();
        if (!subject) throw new ApiError({ field: 'subject', detail: t('auth.fill_in') });
        const r = await api('POST', `/moderation/cases/${id}/subject`, { subject });
        form.elements.subject.value = '';
        toast(t('console.linked'));
        if (r.case_id !== id) navigate(`/console/cases/${r.case_id}`);
        else await load();
      });
    });
    return form;
  }

  // noticeItem is a notice as its notifier sent it, and how the mail to
  // them is getting on.
  function noticeItem(n) {
    const mail = n.mail.map((m) => h('p', { class: `notice-mail ${m.state}` },
      mailKindLabel(m.kind), ': ', mailStateLabel(m.state),
      m.sent_at ? [' · ', h('time', { datetime: m.sent_at }, formatDateTime(m.sent_at))] : null,
      m.error ? h('span', { class: 'note', dir: 'auto' }, ` — ${m.error}`) : null));
    return h('li', { class: 'signal notice-item', dataset: { notice: String(n.id) } },
      h('div', { class: 'sig-head' },
        h('strong', {}, t('console.notice_n', { id: n.id })), ' · ', categoryLabel(n.category), ' · ',
        h('time', { datetime: n.received_at, class: 'muted' }, formatDateTime(n.received_at))),
      h('dl', { class: 'facts' },
        h('dt', {}, t('console.notice_location')), h('dd', {}, h('code', { class: 'notice-location', dir: 'ltr' }, n.location)),
        h('dt', {}, t('console.notifier')), h('dd', { dir: 'auto' },
          n.email ? `${n.name} <${n.email}>` : n.identity_withheld ? t('console.notifier_withheld') : t('console.notifier_anonymous'),
          [n.lang, n.country].filter(Boolean).length ? h('span', { class: 'muted' }, ` · ${[n.lang, n.country].filter(Boolean).join(' · ')}`) : null)),
      h('blockquote', { class: 'sig-comment notice-explanation', dir: 'auto' }, n.explanation),
      n.email || n.identity_withheld ? h('div', { class: 'notice-mails' }, h('span', { class: 'muted' }, t('console.notice_mail')), ...mail) : null);
  }

  function message(m, isReported) {
    const tags = [];
    if (isReported) tags.push(h('span', { class: 'cm-tag reported-tag' }, t('console.reported')));
    // A held message is kept from readers the way a removed one is; it is
    // marked held, not removed, since no one has decided on it yet.
    if (m.removed_at && !m.held) {
      tags.push(h('span', { class: 'cm-tag removed-tag' },
        t('console.removed_on', { when: formatDateTime(m.removed_at) }), m.removal_reason ? ` · ${m.removal_reason}` : ''));
    }
    if (m.deleted) tags.push(h('span', { class: 'cm-tag' }, t('console.deleted')));
    if (m.held) tags.push(h('span', { class: 'cm-tag held-tag' }, t('console.held')));
    const cls = ['case-message'];
    if (isReported) cls.push('reported');
    if (m.removed_at && !m.held) cls.push('removed');
    if (m.held) cls.push('held');
    return h('li', { class: cls.join(' '), dataset: { seq: String(m.seq) }, 'aria-current': isReported ? 'true' : null },
      h('div', { class: 'cm-head' },
        h('span', { class: 'cm-sender' }, person(m.sender_id)),
        h('time', { datetime: m.created_at }, formatDateTime(m.created_at)),
        h('span', { class: 'muted' }, `#${m.seq}`),
        ...tags),
      m.media ? reviewMedia(m.media) : null,
      m.text ? h('div', { class: 'text', dir: 'auto' }, m.text) : null);
  }

  // reviewMedia shows an attachment as the reviewer sees it: a photo or
  // video's thumbnail blurred until revealed, or a file's name. Every
  // download is recorded in the audit log by the server.
  function reviewMedia(media) {
    const base = `/moderation/cases/${id}/media/${media.media_id}`;
    const name = media.name || (media.kind === 'photo' ? t('msg.photo') : t('msg.file'));
    const open = h('button', { type: 'button', class: 'btn small', onclick: () => openOriginal(media, base, name) }, t('console.open_original'));
    if (media.kind === 'photo' || (media.kind === 'video' && media.thumbnail)) {
      const img = h('img', { class: revealed.has(media.media_id) ? 'review-img' : 'review-img blurred', alt: t('console.media_alt', { name }) });
      blobURL(`${base}/${media.thumbnail ? 'thumbnail' : 'content'}`).then((u) => { img.src = u; }, (err) => {
        img.alt = `${t('msg.media_unavailable')} ${errorText(err)}`;
        img.classList.add('broken');
      });
      const shownNow = revealed.has(media.media_id);
      const reveal = h('button', { type: 'button', class: 'btn small reveal', 'aria-pressed': String(shownNow) },
        shownNow ? t('console.hide') : t('console.reveal'));
      reveal.addEventListener('click', () => {
        const hidden = img.classList.toggle('blurred');
        if (hidden) revealed.delete(media.media_id);
        else revealed.add(media.media_id);
        reveal.setAttribute('aria-pressed', String(!hidden));
        reveal.textContent = hidden ? t('console.reveal') : t('console.hide');
      });
      return h('div', { class: 'review-media' },
        h('div', { class: 'media-frame' }, img),
        h('div', { class: 'media-tools' }, reveal, open, h('span', { class: 'muted' }, formatSize(media.size))));
    }
    return h('div', { class: 'review-media file' },
      h('span', { class: 'file-name', dir: 'auto' }, name), h('span', { class: 'muted' }, formatSize(media.size)), open);
  }

  async function openOriginal(media, base, name) {
    try {
      const u = await blobURL(`${base}/content`);
      if (media.kind === 'photo') {
        openDialog(name, () => h('div', { class: 'modal-body viewer' }, h('img', { class: 'full', src: u, alt: t('console.media_alt', { name }) })),
          { className: 'wide', focusField: false });
      } else {
        const a = h('a', { href: u, download: media.name || 'file' });
        document.body.append(a);
        a.click();
        a.remove();
      }
    } catch (err) {
      toast(errorText(err), { error: true });
    }
  }

  function signal(g) {
    return h('li', { class: 'signal' },
      h('div', { class: 'sig-head' },
        h('strong', {}, sourceLabel(g.source)), ' · ', categoryLabel(g.category),
        g.reporter_id ? [' · ', h('span', { class: 'reporter' }, person(g.reporter_id)), reporterRecord(g.reporter_id)] : null,
        g.notice_id ? [' · ', t('console.notice_n', { id: g.notice_id })] : null,
        h('span', { class: 'muted' }, ` · ${t('console.weight', { weight: g.weight.toFixed(2) })} · `),
        h('time', { datetime: g.created_at, class: 'muted' }, formatDateTime(g.created_at))),
      g.evidence && g.evidence.kind === 'secret_franking' ? verified(g.evidence, `verified-${g.id}`) : null,
      g.comment ? comment(g) : null,
      g.detail ? h('div', { class: 'evidence' }, h('span', { class: 'muted' }, t('console.evidence')), h('pre', { dir: 'auto' }, g.detail)) : null);
  }

  // comment is what a signal's sender wrote. A reporter's is labelled as
  // theirs, so that it is not taken for what the server verified.
  function comment(g) {
    const quote = h('blockquote', { class: 'sig-comment', dir: 'auto' }, g.comment);
    return g.reporter_id ? h('div', { class: 'sig-said' }, h('span', { class: 'muted' }, t('console.reporter_comment')), quote) : quote;
  }

  // verified is what the server checked before filing a signal, set apart
  // from the reporter's comment, which anyone can word to look like it: for
  // a secret-chat message, that its franking proof shows the sender's device
  // sent this text. The text is the reported content, shown as text.
  function verified(e, titleID) {
    return h('div', { class: 'verified', role: 'group', 'aria-labelledby': titleID },
      h('div', { class: 'verified-head' }, icon('shield'), h('strong', { id: titleID }, t('console.franking_verified'))),
      h('dl', { class: 'facts verified-facts' },
        h('dt', {}, t('console.franking_sent_at')), h('dd', {}, h('time', { datetime: e.sent_at }, formatDateTime(e.sent_at))),
        h('dt', {}, t('console.franking_from')), h('dd', {}, t('console.franking_device', { who: person(e.sender_id), device: e.sender_device })),
        h('dt', {}, t('console.franking_to')), h('dd', {}, t('console.franking_device', { who: person(e.recipient_id), device: e.recipient_device })),
        h('dt', {}, t('console.franking_envelope')), h('dd', {}, h('code', {}, e.envelope_id))),
      h('pre', { class: 'verified-text', dir: 'auto' }, e.text),
      e.omitted ? h('p', { class: 'muted' }, t('console.franking_omitted', { count: e.omitted })) : null);
  }

  // reporterRecord is how a reporter's reports have turned out, beside
  // their name on a signal.
  function reporterRecord(uid) {
    const a = knownAccount(uid);
    if (!a) return null;
    return h('span', { class: 'muted reporter-record' }, ` (${t('console.account.reporter', { reports: a.reports, actioned: a.reports_actioned })})`);
  }

  function chatInfo(c) {
    const kind = c.kind === 'channel' ? t('chat.kind_channel') : c.kind === 'group' ? t('chat.kind_group') : t('chat.private');
    return h('section', { class: 'case-section case-chat', 'aria-labelledby': 'case-chat-title' },
      h('h3', { id: 'case-chat-title' }, t('console.chat')),
      h('dl', { class: 'facts' },
        h('dt', {}, t('new.title')), h('dd', { dir: 'auto' }, c.title || '—'),
        h('dt', {}, t('info.kind')), h('dd', {}, kind),
        c.username ? [h('dt', {}, t('info.public_name')), h('dd', {}, h('bdi', {}, `@${c.username}`))] : null,
        h('dt', {}, t('role.owner')), h('dd', {}, person(c.owner_id)),
        h('dt', {}, t('info.members')), h('dd', {}, String(c.member_count)),
        h('dt', {}, t('console.taken_down')), h('dd', { class: c.taken_down_at ? 'taken-down' : '' },
          c.taken_down_at ? t('console.taken_down_on', { when: formatDateTime(c.taken_down_at) }) : t('console.no')),
        c.labels && c.labels.length ? [h('dt', {}, t('console.labels')), h('dd', {}, c.labels.map(warningLabel).join(', '))] : null));
  }

  function actionTaken(a) {
    const reverse = !a.reversed_at && can(role, 'act')
      ? h('button', { type: 'button', class: 'btn small reverse', onclick: () => reverseDialog(a) }, t('console.reverse'))
      : null;
    return h('li', { class: `action-taken${a.reversed_at ? ' reversed' : ''}`, dataset: { id: String(a.id) } },
      h('div', { class: 'sig-head' },
        h('strong', {}, actionLabel(a.kind)), a.label ? ` (${warningLabel(a.label)})` : '', ' · ', categoryLabel(a.category), ' · ', groundLabel(a.ground),
        a.legal_reference ? ` (${a.legal_reference})` : '',
        h('span', { class: 'muted' }, ` · ${person(a.moderator_id)} · ${formatDateTime(a.created_at)}`)),
      a.until ? h('p', {}, t('console.until_date', { when: formatDateTime(a.until) })) : null,
      a.kind === 'restrict' ? h('p', { class: 'restriction-where' }, t('console.restriction_where', {
        where: a.territory && a.territory.length ? a.territory.map((c) => (laws ? scopeText(c, laws) : c)).join(', ') : t('console.restrict_by_rules'),
      })) : null,
      h('p', { class: 'note', dir: 'auto' }, a.facts),
      a.reversed_at
        ? h('p', { class: 'reversed-note' }, t('console.reversed_on', { when: formatDateTime(a.reversed_at), name: person(a.reversed_by) }),
          a.reversal_reason ? ` ${a.reversal_reason}` : '')
        : null,
      reverse);
  }

  function noteForm() {
    if (!can(role, 'sort')) return null;
    const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const form = h('form', { class: 'note-form stack', novalidate: true, dataset: { form: 'note' } },
      field(t('console.note'), { name: 'note', tag: 'textarea', rows: '2', maxlength: '2000' }), box,
      h('div', { class: 'actions start' }, h('button', { type: 'submit', class: 'btn small' }, t('console.add_note'))));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      step(form, box, async () => {
        const note = form.elements.note.value.trim();
        if (!note) throw new ApiError({ field: 'note', detail: t('auth.fill_in') });
        await api('POST', `/moderation/cases/${id}/comments`, { note });
        toast(t('console.note_added'));
        load();
      });
    });
    return section('case-note-title', t('console.notes'), form);
  }

  async function assign(to) {
    try {
      await api('POST', `/moderation/cases/${id}/assign`, { user_id: to });
      toast(to ? t('console.assigned') : t('console.unassigned_done'));
      await load();
      const b = el.querySelector('[data-act="assign"]');
      if (b) b.focus();
    } catch (err) {
      toast(errorText(err), { error: true });
    }
  }

  // formDialog opens a dialog with form.act-form holding fields; submit does
  // the work, and its errors are shown beside the field they concern.
  function formDialog(kind, intro, fields, submitLabel, danger, submit) {
    openDialog(t('console.act_title', { action: actionLabel(kind), id }), (close) => {
      const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
      const btn = h('button', { type: 'submit', class: danger ? 'btn danger' : 'btn primary' }, submitLabel);
      const form = h('form', { class: 'modal-body stack act-form', novalidate: true, dataset: { kind } },
        intro ? h('p', {}, intro) : null, ...fields, box,
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', onclick: close }, t('common.cancel')), btn));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        step(form, box, async () => {
          await submit(form);
          close();
        }, btn);
      });
      return form;
    }, { className: 'wide' });
  }

  async function step(form, box, fn, btn = form.querySelector('button[type="submit"]')) {
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    try {
      await fn();
    } catch (err) {
      showError(form, box, err, errorText(err));
    } finally {
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
    }
  }

  function escalateDialog() {
    formDialog('escalate', t('console.escalate_text'), [
      field(t('console.note'), { name: 'note', tag: 'textarea', rows: '3', maxlength: '2000', hint: t('console.escalate_hint') }),
    ], actionLabel('escalate'), false, async (form) => {
      await api('POST', `/moderation/cases/${id}/escalate`, { note: form.elements.note.value.trim() });
      toast(t('console.escalated'));
      navigate(queuePath);
    });
  }

  // dismissDialog resolves the case without action; a held message is
  // then released to its chat, which the reviewer is told first.
  function dismissDialog(held) {
    const tpl = templateField(dismissTemplates, (x) => { openForm().elements.reason.value = x.text; });
    formDialog('dismiss', held ? t('console.dismiss_release_text') : t('console.dismiss_text'), [
      tpl,
      field(t('console.reason'), { name: 'reason', tag: 'textarea', rows: '4', maxlength: '2000', required: true, hint: t('console.dismiss_hint') }),
    ], held ? t('console.dismiss_release') : actionLabel('dismiss'), false, async (f) => {
      const reason = f.elements.reason.value.trim();
      if (!reason) throw new ApiError({ field: 'reason', detail: t('auth.fill_in') });
      await api('POST', `/moderation/cases/${id}/dismiss`, { reason });
      for (const [uid] of affected()) forgetAccount(uid);
      toast(t('console.acted', { id, action: actionLabel('dismiss') }));
      navigate(queuePath);
    });
  }

  // actDialog asks for what a statement of reasons needs before acting:
  // the facts (from a template, then edited), the ground and, for a
  // suspension, its end.
  async function actDialog(kind) {
    const cats = await loadCategories().catch(() => []);
    const catField = field(t('console.category'), { name: 'category', tag: 'select' });
    const catSelect = catField.querySelector('select');
    catSelect.append(...cats.map((c) => h('option', { value: c.id }, c.label)));
    catSelect.value = d.category;
    const tplField = templateField(() => actTemplates(catSelect.value), apply);
    const ground = field(t('console.ground'), { name: 'ground', tag: 'select' });
    ground.querySelector('select').append(h('option', { value: 'terms' }, t('console.ground.terms')), h('option', { value: 'illegal' }, t('console.ground.illegal')));
    const ref = field(t('console.legal_reference'), { name: 'legal_reference', maxlength: '500', autocomplete: 'off', hint: t('console.legal_reference_hint') });
    ref.hidden = true;
    ground.querySelector('select').addEventListener('change', (e) => { ref.hidden = e.target.value !== 'illegal'; });
    let label = null;
    if (kind === 'label') {
      label = field(t('console.label'), { name: 'label', tag: 'select' });
      label.querySelector('select').append(...labels.map((l) => h('option', { value: l }, warningLabel(l))));
    }
    let until = null;
    if (kind === 'suspend') {
      until = field(t('console.until'), { name: 'until', type: 'datetime-local', required: true, min: localInput(new Date()) });
      until.querySelector('input').value = localInput(new Date(Date.now() + 7 * 86400000));
    }
    // A removed file's hashes may go into a hash bank the operators made,
    // so that its copies are caught at upload, not just the same bytes.
    const bank = kind === 'remove_media' ? field(t('console.bank'), { name: 'bank', maxlength: '64', autocomplete: 'off', hint: t('console.bank_hint') }) : null;
    let territory = null;
    if (kind === 'restrict') {
      // Withholding where the law requires rests on the law: by default
      // the law of the country rules, which the field fills in.
      ground.querySelector('select').value = 'illegal';
      ref.hidden = false;
      territory = territoryField(catSelect, ref.querySelector('input'));
    }
    catSelect.addEventListener('change', () => replace(tplField.querySelector('select'), ...templateOptions(actTemplates(catSelect.value))));
    let chosen = null; // the template the facts start from
    function apply(x) {
      const f = openForm();
      chosen = x;
      f.elements.facts.value = x.text;
      f.elements.ground.value = x.ground;
      f.elements.legal_reference.value = x.ref;
      ref.hidden = x.ground !== 'illegal';
    }
    formDialog(kind, actIntro(kind), [
      label, catField, territory && territory.el, tplField,
      field(t('console.facts'), { name: 'facts', tag: 'textarea', rows: '5', maxlength: '5000', required: true, hint: t('console.facts_hint') }),
      ground, ref, until, bank,
    ], actionLabel(kind), kind !== 'label', async (f) => {
      const body = { kind, category: f.elements.category.value, ground: f.elements.ground.value, facts: f.elements.facts.value.trim() };
      if (!body.facts) throw new ApiError({ field: 'facts', detail: t('auth.fill_in') });
      if (chosen && body.facts.startsWith(chosen.text)) {
        // The template's own words go as its name, so that the person
        // affected reads them in their language; what was added after it
        // goes as typed. Facts rewritten from the start are free text.
        body.template = chosen.name;
        body.facts = body.facts.slice(chosen.text.length).trim();
      }
      if (body.ground === 'illegal') body.legal_reference = f.elements.legal_reference.value.trim();
      if (kind === 'label') body.label = f.elements.label.value;
      if (bank && f.elements.bank.value.trim()) body.bank = f.elements.bank.value.trim().toUpperCase();
      if (kind === 'restrict' && territory.countries().length) body.countries = territory.countries();
      if (kind === 'suspend') {
        const v = f.elements.until.value;
        if (!v) throw new ApiError({ field: 'until', detail: t('auth.fill_in') });
        body.until = new Date(v).toISOString();
      }
      const done = await api('POST', `/moderation/cases/${id}/actions`, body);
      forgetAccount(done.affected_id); // its standing and record have changed
      toast(t('console.acted', { id, action: actionLabel(kind) }));
      navigate(queuePath);
    });
  }

  function actIntro(kind) {
    const chat = d.chat ? d.chat.title : '';
    if (kind === 'takedown') return t('console.takedown_text', { title: chat, count: d.chat ? d.chat.member_count : 0 });
    if (kind === 'remove_message') return t('console.remove_text');
    if (kind === 'suspend') return t('console.suspend_text');
    if (kind === 'label') return t('console.label_text');
    if (kind === 'remove_media') return t('console.remove_media_text');
    if (kind === 'restrict') return t('console.restrict_text');
    return t('console.ban_text');
  }

  function reverseDialog(a) {
    openDialog(t('console.reverse_title', { action: actionLabel(a.kind) }), (close) => {
      const box = h('p', { class: 'form-error', role: 'alert', hidden: true });
      const form = h('form', { class: 'modal-body stack reverse-form', novalidate: true },
        h('p', {}, t('console.reverse_text')),
        field(t('console.reason'), { name: 'reason', tag: 'textarea', rows: '3', maxlength: '2000', required: true }), box,
        h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', onclick: close }, t('common.cancel')),
          h('button', { type: 'submit', class: 'btn primary' }, t('console.reverse'))));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        step(form, box, async () => {
          const reason = form.elements.reason.value.trim();
          if (!reason) throw new ApiError({ field: 'reason', detail: t('auth.fill_in') });
          await api('POST', `/moderation/actions/${a.id}/reverse`, { reason });
          close();
          toast(t('console.reversed'));
          forgetAccount(a.affected_id); // its standing has changed
          load();
        });
      });
      return form;
    });
  }

  function openForm() {
    return document.querySelector('dialog[open] form.act-form');
  }

  function clickAct(kind) {
    const b = el.querySelector(`[data-act="${kind}"]`);
    if (!b) return false;
    b.click();
    return true;
  }

  // The case refreshes itself, and at once when the reviewer comes back to
  // the tab: another reviewer may have acted on it meanwhile.
  function onVisible() {
    if (!document.hidden) load();
  }
  const timer = setInterval(() => { if (!document.hidden) load(); }, refreshEvery);
  document.addEventListener('visibilitychange', onVisible);
  function stop() {
    closed = true;
    clearInterval(timer);
    document.removeEventListener('visibilitychange', onVisible);
  }

  load();
  return {
    el,
    keys: {
      r: () => clickAct('remove_message'),
      t: () => clickAct('takedown'),
      s: () => clickAct('suspend'),
      b: () => clickAct('ban'),
      d: () => clickAct('dismiss'),
      e: () => clickAct('escalate'),
      l: () => clickAct('label'),
      Escape: () => navigate(queuePath),
    },
    leave: stop,
  };
}

// historyNote is a history entry's note, with the IDs and codes the server
// records there put in words.
// outcomeLabel names how a case was resolved.
function outcomeLabel(o) {
  return o === 'merged' ? t('console.outcome.merged') : stateLabel(o);
}

function mailKindLabel(kind) {
  const labels = { receipt: t('console.mail.receipt'), decision: t('console.mail.decision'), reversal: t('console.mail.reversal') };
  return labels[kind] || kind;
}

function mailStateLabel(state) {
  const labels = { pending: t('console.mail.pending'), sent: t('console.mail.sent'), failed: t('console.mail.failed') };
  return labels[state] || state;
}

function historyNote(e) {
  let m;
  if (e.kind === 'assign' && (m = e.note.match(/^user:(\d+)$/))) return Number(m[1]) ? person(Number(m[1])) : t('console.unassigned');
  if ((e.kind === 'opened' || e.kind === 'signal') && (m = e.note.match(/^(\w+): (\w+)$/))) return `${sourceLabel(m[1])}: ${categoryLabel(m[2])}`;
  return e.note;
}

function shortcut(kind) {
  return { remove_message: 'r', takedown: 't', label: 'l', suspend: 's', ban: 'b', dismiss: 'd', escalate: 'e' }[kind] || null;
}

// localInput is a time as a datetime-local input holds it.
function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

// Reason templates ------------------------------------------------------------
// Canned facts a moderator starts from and edits; the affected person
// reads the facts in their statement of reasons. Some rest on the law. The
// names are the server's (moderation.Templates), which words them the same
// in each language for the person who reads the statement.

const templatesOf = {
  child_abuse: ['csam'],
  terrorism: ['terror', 'violence'],
  violence: ['violence', 'gore'],
  self_harm: ['self_harm'],
  illegal_drugs: ['drugs'],
  unsafe_products: ['weapons'],
  hate_speech: ['hate'],
  harassment: ['harassment'],
  intimate_images: ['intimate'],
  personal_details: ['doxxing'],
  scam: ['scam'],
  pornography: ['porn'],
  copyright: ['copyright'],
  fake: ['impersonation'],
  spam: ['spam'],
};

function templateText(name) {
  const texts = {
    csam: t('console.tpl.csam'),
    terror: t('console.tpl.terror'),
    violence: t('console.tpl.violence'),
    gore: t('console.tpl.gore'),
    self_harm: t('console.tpl.self_harm'),
    drugs: t('console.tpl.drugs'),
    weapons: t('console.tpl.weapons'),
    hate: t('console.tpl.hate'),
    harassment: t('console.tpl.harassment'),
    intimate: t('console.tpl.intimate'),
    doxxing: t('console.tpl.doxxing'),
    scam: t('console.tpl.scam'),
    porn: t('console.tpl.porn'),
    copyright: t('console.tpl.copyright'),
    impersonation: t('console.tpl.impersonation'),
    spam: t('console.tpl.spam'),
    terms: t('console.tpl.terms'),
  };
  return texts[name];
}

const legal = {
  csam: 'Directive 2011/93/EU, Art. 5',
  terror: 'Regulation (EU) 2021/784, Art. 2(7)',
};

function actTemplates(category) {
  return [...(templatesOf[category] || []), 'terms'].map((name) => ({
    name, text: templateText(name), ground: legal[name] ? 'illegal' : 'terms', ref: legal[name] || '',
  }));
}

function dismissTemplates() {
  return [
    { name: 'no_violation', text: t('console.tpl.no_violation') },
    { name: 'in_context', text: t('console.tpl.in_context') },
    { name: 'duplicate', text: t('console.tpl.duplicate') },
  ];
}

function templateOptions(list) {
  return [h('option', { value: '' }, t('console.template_choose')), ...list.map((x) => h('option', { value: x.name }, x.text))];
}

// templateField is the select of the reason templates that list() returns
// (they change with the category); choosing one calls apply with it.
function templateField(list, apply) {
  const f = field(t('console.template'), { name: 'template', tag: 'select' });
  const sel = f.querySelector('select');
  sel.append(...templateOptions(list()));
  sel.addEventListener('change', () => {
    const x = list().find((y) => y.name === sel.value);
    if (x) apply(x);
  });
  return f;
}
