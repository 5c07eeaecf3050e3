// The settings' section on disclosures of the user's data to authorities:
// each law-enforcement request kurir fulfilled about the account, once no
// non-disclosure order forbids telling them (GET /me/disclosures).
import { api, errorText } from './api.js';
import { t } from './i18n.js';
import { h, replace, formatDateTime } from './dom.js';
import { categoryList, country } from './legal-labels.js';

export function disclosuresSection() {
  const status = h('p', { class: 'muted', role: 'status' }, t('settings.loading'));
  const list = h('ul', { class: 'disclosures', 'aria-labelledby': 'disclosures-title' });
  const el = h('section', { 'aria-labelledby': 'disclosures-title' },
    h('h3', { id: 'disclosures-title' }, t('disclosures.title')),
    h('p', { class: 'muted' }, t('disclosures.text')),
    status, list);
  (async () => {
    try {
      const r = await api('GET', '/me/disclosures');
      status.textContent = r.disclosures.length ? '' : t('disclosures.none');
      status.hidden = !!r.disclosures.length;
      replace(list, r.disclosures.map((d) => h('li', { class: 'disclosure' },
        h('p', { class: 'disclosure-head' },
          h('strong', {}, d.number), ' · ',
          h('time', { datetime: d.disclosed_at }, formatDateTime(d.disclosed_at))),
        h('dl', { class: 'facts' },
          h('dt', {}, t('disclosures.authority')), h('dd', { dir: 'auto' }, d.authority),
          h('dt', {}, t('disclosures.country')), h('dd', {}, country(d.country)),
          h('dt', {}, t('disclosures.categories')), h('dd', {}, categoryList(d.categories))))));
    } catch (err) {
      status.hidden = false;
      status.textContent = errorText(err);
    }
  })();
  return el;
}
