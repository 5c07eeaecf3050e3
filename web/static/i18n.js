// Message catalogs. Every string a person sees comes from i18n/<lang>.json
// through t(); the Go tests check that every catalog has every key of
// en.json and that every key the code passes to t is in en.json, so keys
// are always string literals.

export const languages = [
  { code: 'en', name: 'English' },
  { code: 'id', name: 'Bahasa Indonesia' },
  { code: 'ru', name: 'Русский' },
  { code: 'ar', name: 'العربية' },
];
const rtl = new Set(['ar']);
const storageKey = 'kurir.lang';

let lang = 'en';
let catalog = {};
let fallback = {};
const listeners = new Set();

// detect picks the saved choice, else the first of the browser's languages
// that the app speaks, else English.
export function detect() {
  const saved = localStorage.getItem(storageKey);
  if (languages.some((l) => l.code === saved)) return saved;
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    let base = String(tag).toLowerCase().split(/[-_]/)[0];
    if (base === 'in') base = 'id'; // the old code for Indonesian
    if (languages.some((l) => l.code === base)) return base;
  }
  return 'en';
}

async function fetchCatalog(code) {
  const resp = await fetch(new URL(`i18n/${code}.json`, import.meta.url));
  if (!resp.ok) throw new Error(`catalog ${code}: ${resp.status}`);
  return resp.json();
}

// setLanguage loads a catalog, applies it to the page (lang, dir and every
// element with data-i18n) and tells the listeners. save remembers it.
export async function setLanguage(code, save = false) {
  const [cat, en] = await Promise.all([fetchCatalog(code), code === 'en' ? null : fetchCatalog('en')]);
  catalog = cat;
  fallback = en || cat;
  lang = code;
  if (save) localStorage.setItem(storageKey, code);
  const html = document.documentElement;
  html.lang = code;
  html.dir = rtl.has(code) ? 'rtl' : 'ltr';
  translateStatic(document);
  for (const fn of listeners) fn(code);
}

export function language() {
  return lang;
}

export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// t returns the message for key with {name} placeholders filled from vars.
export function t(key, vars) {
  let s = catalog[key] ?? fallback[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  return s;
}

// translateStatic fills the elements of the static page marked data-i18n
// (text) and data-i18n-label (aria-label).
// The keys are in the markup, where the tests read them.
export function translateStatic(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n); // i18n: markup key
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel)); // i18n: markup key
}
