// Settings: the account, the country it declares, the language, the way
// to the moderators' decisions and the user's reports, the disclosures of
// the user's data to authorities, the devices logged in (each can be
// logged out) and logging out of this one.
import { api, errorText } from './api.js';
import { t } from './i18n.js';
import { h, replace, formatDateTime, confirmDialog, toast, icon } from './dom.js';
import { store } from './store.js';
import { languagePicker } from './auth.js';
import { isStaff } from './console-labels.js';
import { countrySection } from './jurisdiction.js';
import { isLegalTeam } from './console-legal.js';
import { disclosuresSection } from './disclosures.js';

export function settingsScreen({ logout }) {
  const devices = h('ul', { class: 'devices', 'aria-labelledby': 'devices-title' });
  const status = h('p', { class: 'muted', 'aria-live': 'polite' }, t('settings.loading'));
  const me = store.me;
  const el = h('section', { class: 'settings', 'aria-labelledby': 'settings-title' },
    h('header', { class: 'conv-head' },
      h('a', { href: '/', class: 'icon-btn back', 'aria-label': t('conv.back'), title: t('conv.back') }, icon('back')),
      h('h2', { id: 'settings-title', tabindex: '-1' }, t('settings.title'))),
    h('div', { class: 'settings-body' },
      h('section', { 'aria-labelledby': 'profile-title' },
        h('h3', { id: 'profile-title' }, t('settings.account')),
        h('dl', { class: 'facts' },
          h('dt', {}, t('auth.username')), h('dd', {}, h('bdi', {}, `@${me.username}`)),
          h('dt', {}, t('auth.display_name')), h('dd', { dir: 'auto' }, me.display_name || me.username))),
      countrySection(),
      h('section', { 'aria-labelledby': 'lang-title' },
        languagePicker({ heading: true })),
      h('section', { 'aria-labelledby': 'decisions-link-title' },
        h('h3', { id: 'decisions-link-title' }, t('decisions.title')),
        h('p', { class: 'muted' }, t('decisions.settings_text')),
        h('div', { class: 'actions start' }, h('a', { href: '/settings/decisions', class: 'btn decisions-link' }, t('decisions.open')))),
      disclosuresSection(),
      h('section', { 'aria-labelledby': 'devices-title' },
        h('h3', { id: 'devices-title' }, t('settings.devices')),
        h('p', { class: 'muted' }, t('settings.devices_text')),
        status, devices),
      isStaff(me.role) || isLegalTeam(me.role) ? h('section', { 'aria-labelledby': 'console-link-title' },
        h('h3', { id: 'console-link-title' }, t('console.title')),
        h('p', { class: 'muted' }, t('console.settings_text')),
        h('div', { class: 'actions start' }, h('a', { href: '/console', class: 'btn' }, t('console.open')))) : null,
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
