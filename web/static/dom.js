// Small DOM helpers shared by the screens: element building, icons,
// formatting and accessible dialogs.
import { t, language } from './i18n.js';

// h builds an element: h('button', {class: 'x', onclick: fn}, 'text', child).
// Attributes starting with "on" are listeners; false, null and undefined
// attributes and children are skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v == null) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// replace swaps el's children for the given ones.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const svgNS = 'http://www.w3.org/2000/svg';
const paths = {
  send: 'M3 20.5 21.5 12 3 3.5l.02 6.6L16 12 3.02 13.9z',
  attach: 'M16.5 6.5v10.1a4.5 4.5 0 0 1-9 0V5.8a3 3 0 0 1 6 0v9.7a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5.8a4.5 4.5 0 0 0-9 0v10.8a6 6 0 0 0 12 0V6.5z',
  more: 'M12 8a2 2 0 1 0 0-4 2 2 0 0 0 0 4zm0 2a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm0 6a2 2 0 1 0 0 4 2 2 0 0 0 0-4z',
  back: 'M20 11H7.8l5.6-5.6L12 4l-8 8 8 8 1.4-1.4L7.8 13H20z',
  close: 'M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z',
  settings: 'M19.4 13a7.4 7.4 0 0 0 0-2l2.1-1.6-2-3.5-2.5 1a7.3 7.3 0 0 0-1.7-1L15 3h-4l-.4 2.7a7.3 7.3 0 0 0-1.7 1l-2.5-1-2 3.5L6.6 11a7.4 7.4 0 0 0 0 2l-2.1 1.6 2 3.5 2.5-1a7.3 7.3 0 0 0 1.7 1L11 21h4l.4-2.7a7.3 7.3 0 0 0 1.7-1l2.5 1 2-3.5zM13 15.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7z',
  edit: 'M3 17.2V21h3.8L17.8 9.9 14 6.1zM20.7 7a1 1 0 0 0 0-1.4l-2.3-2.3a1 1 0 0 0-1.4 0l-1.8 1.8 3.8 3.8z',
  plus: 'M19 13h-6v6h-2v-6H5v-2h6V5h2v6h6z',
  info: 'M11 7h2v2h-2zm0 4h2v6h-2zm1-9a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16z',
  down: 'M7.4 8.6 12 13.2l4.6-4.6L18 10l-6 6-6-6z',
  file: 'M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zm4 18H6V4h7v5h5z',
  pin: 'M16 9V4h1V2H7v2h1v5l-2 2v2h5.2v7h1.6v-7H18v-2z',
  search: 'M15.5 14h-.8l-.3-.3a6.5 6.5 0 1 0-.7.7l.3.3v.8l5 5 1.5-1.5zm-6 0a4.5 4.5 0 1 1 0-9 4.5 4.5 0 0 1 0 9z',
  lock: 'M18 8h-1V6A5 5 0 0 0 7 6v2H6a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V10a2 2 0 0 0-2-2zM9 6a3 3 0 0 1 6 0v2H9zm3 11a2 2 0 1 1 0-4 2 2 0 0 1 0 4z',
  timer: 'M15 1H9v2h6zm-4 13h2V8h-2zm8-6.6 1.4-1.4A11 11 0 0 0 19 4.6l-1.4 1.4A9 9 0 1 0 21 13a9 9 0 0 0-2-5.6zM12 20a7 7 0 1 1 0-14 7 7 0 0 1 0 14z',
  shield: 'M12 1 3 5v6c0 5.6 3.8 10.7 9 12 5.2-1.3 9-6.4 9-12V5zm-2 16-4-4 1.4-1.4 2.6 2.6 6.6-6.6L18 9z',
  trash: 'M6 19a2 2 0 0 0 2 2h8a2 2 0 0 0 2-2V7H6zM19 4h-3.5l-1-1h-5l-1 1H5v2h14z',
};

// icon returns a decorative SVG icon; the button around it carries the label.
export function icon(name) {
  const svg = document.createElementNS(svgNS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'icon');
  const p = document.createElementNS(svgNS, 'path');
  p.setAttribute('d', paths[name]);
  svg.append(p);
  return svg;
}

// iconButton is a button showing only an icon, named by label for screen
// readers and as a tooltip.
export function iconButton(name, label, attrs = {}) {
  return h('button', { type: 'button', class: 'icon-btn', 'aria-label': label, title: label, ...attrs }, icon(name));
}

export function formatTime(iso) {
  const d = new Date(iso);
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  const opts = sameDay ? { hour: '2-digit', minute: '2-digit' } : { day: 'numeric', month: 'short' };
  return new Intl.DateTimeFormat(language(), opts).format(d);
}

// formatMsgTime is a message's time: the hour for today's, with the day
// (and the year, for another year's) for older ones.
export function formatMsgTime(iso) {
  const d = new Date(iso);
  const now = new Date();
  const opts = { hour: '2-digit', minute: '2-digit' };
  if (d.toDateString() !== now.toDateString()) {
    opts.day = 'numeric';
    opts.month = 'short';
    if (d.getFullYear() !== now.getFullYear()) opts.year = 'numeric';
  }
  return new Intl.DateTimeFormat(language(), opts).format(d);
}

// formatDay names the day of a separator between messages: today,
// yesterday, or the date.
export function formatDay(iso) {
  const d = new Date(iso);
  const days = Math.round((startOfDay(new Date()) - startOfDay(d)) / 86400000);
  if (days === 0 || days === 1) {
    return new Intl.RelativeTimeFormat(language(), { numeric: 'auto' }).format(-days, 'day');
  }
  const opts = { weekday: 'long', day: 'numeric', month: 'long' };
  if (d.getFullYear() !== new Date().getFullYear()) opts.year = 'numeric';
  return new Intl.DateTimeFormat(language(), opts).format(d);
}

function startOfDay(d) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

// dayKey is the local calendar day of a time, to tell days apart.
export function dayKey(iso) {
  return new Date(iso).toDateString();
}

export function formatDateTime(iso) {
  return new Intl.DateTimeFormat(language(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export function formatSize(bytes) {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'];
  let i = 0;
  let n = bytes;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return new Intl.NumberFormat(language(), {
    style: 'unit', unit: units[i], unitDisplay: 'short', maximumFractionDigits: i === 0 ? 0 : 1,
  }).format(n);
}

// initials are an avatar's letters.
export function initials(name) {
  const parts = String(name || '?').replace(/^@/, '').trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0], parts[1]] : [parts[0] || '?'];
  return letters.map((p) => Array.from(p)[0]).join('').toUpperCase();
}

export function avatar(name, id) {
  return h('span', { class: `avatar hue${Math.abs(Number(id) || 0) % 8}`, 'aria-hidden': 'true' }, initials(name));
}

// openDialog shows a modal <dialog> built by build(close), focusing its
// first field, and removes it when closed. It returns the dialog.
export function openDialog(title, build, { className = '', focusField = true } = {}) {
  const id = `dlg-${Math.random().toString(36).slice(2)}`;
  const dlg = h('dialog', { class: `modal ${className}`, 'aria-labelledby': id });
  const close = () => dlg.close();
  const head = h('div', { class: 'modal-head' },
    h('h2', { id }, title),
    iconButton('close', t('common.close'), { onclick: close }));
  dlg.append(head, build(close));
  dlg.addEventListener('close', () => dlg.remove());
  // A click on the backdrop (outside the box) closes it.
  dlg.addEventListener('click', (e) => {
    if (e.target !== dlg) return;
    const r = dlg.getBoundingClientRect();
    const inside = e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
    if (!inside) close();
  });
  document.body.append(dlg);
  dlg.showModal();
  const first = dlg.querySelector(focusField ? '[autofocus], input, select, textarea, .modal-body button' : '[autofocus], .modal-head button');
  if (first) first.focus();
  return dlg;
}

// confirmDialog asks a yes/no question and resolves to the answer.
export function confirmDialog(title, text, yesLabel, { danger = false } = {}) {
  return new Promise((resolve) => {
    let answer = false;
    const dlg = openDialog(title, (close) => h('div', { class: 'modal-body' },
      h('p', {}, text),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn', onclick: close }, t('common.cancel')),
        h('button', { type: 'button', class: danger ? 'btn danger' : 'btn primary', autofocus: true, onclick: () => { answer = true; close(); } }, yesLabel))));
    dlg.addEventListener('close', () => resolve(answer));
  });
}

// menu opens a list of actions near anchor as a small modal dialog, which
// keeps focus inside it and closes on Escape, a click outside or a choice.
// Arrow keys move between the items; an item's name, if given, is its
// data-action.
export function menu(anchor, label, items) {
  const dlg = h('dialog', { class: 'menu', 'aria-label': label });
  const list = h('div', { role: 'menu', 'aria-label': label });
  let chosen = null;
  for (const it of items) {
    list.append(h('button', {
      type: 'button', role: 'menuitem', class: it.danger ? 'danger' : '', 'data-action': it.name,
      onclick: () => { chosen = it; dlg.close(); },
    }, it.label));
  }
  dlg.append(list);
  // The choice runs once the menu has closed and handed focus back, so that
  // an action that moves focus (Reply to the message box) keeps it.
  dlg.addEventListener('close', () => {
    dlg.remove();
    if (chosen) chosen.action();
    else anchor.focus();
  });
  dlg.addEventListener('click', (e) => { if (e.target === dlg) dlg.close(); });
  dlg.addEventListener('keydown', (e) => {
    const buttons = [...list.querySelectorAll('button')];
    const i = buttons.indexOf(document.activeElement);
    if (e.key === 'ArrowDown') { e.preventDefault(); buttons[(i + 1) % buttons.length].focus(); }
    if (e.key === 'ArrowUp') { e.preventDefault(); buttons[(i - 1 + buttons.length) % buttons.length].focus(); }
    if (e.key === 'Home') { e.preventDefault(); buttons[0].focus(); }
    if (e.key === 'End') { e.preventDefault(); buttons[buttons.length - 1].focus(); }
  });
  document.body.append(dlg);
  dlg.showModal();
  // Place it beside the anchor, inside the window.
  const r = anchor.getBoundingClientRect();
  const w = dlg.offsetWidth;
  const hgt = dlg.offsetHeight;
  const rtl = document.documentElement.dir === 'rtl';
  let left = rtl ? r.left : r.right - w;
  left = Math.max(8, Math.min(left, window.innerWidth - w - 8));
  let top = r.bottom + 4;
  if (top + hgt > window.innerHeight - 8) top = Math.max(8, r.top - hgt - 4);
  dlg.style.left = `${left}px`;
  dlg.style.top = `${top}px`;
  list.querySelector('button')?.focus();
  return dlg;
}

// field is a labelled input with room for its error.
export function field(label, attrs) {
  const id = attrs.id || `f-${attrs.name}-${Math.random().toString(36).slice(2, 7)}`;
  const errId = `${id}-err`;
  const input = h(attrs.tag || 'input', { ...attrs, tag: null, id, 'aria-describedby': attrs.hint ? `${id}-hint` : null, hint: null });
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    input,
    attrs.hint ? h('p', { class: 'hint', id: `${id}-hint` }, attrs.hint) : null,
    h('p', { class: 'field-error', id: errId, hidden: true }));
}

// showFieldErrors marks the input named by a problem's field as invalid and
// shows the message beside it; otherwise it shows the message in box.
export function showError(form, box, err, message) {
  for (const el of form.querySelectorAll('[aria-invalid]')) {
    el.removeAttribute('aria-invalid');
    const e = document.getElementById(`${el.id}-err`);
    if (e) { e.hidden = true; e.textContent = ''; }
    el.setAttribute('aria-describedby', (el.getAttribute('aria-describedby') || '').replace(/\S+-err\b/g, '').trim());
  }
  const input = err && err.field ? form.querySelector(`[name="${CSS.escape(err.field)}"]`) : null;
  if (input) {
    const e = document.getElementById(`${input.id}-err`);
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', `${(input.getAttribute('aria-describedby') || '')} ${input.id}-err`.trim());
    e.textContent = message;
    e.hidden = false;
    replace(box);
    box.hidden = true;
    input.focus();
    return;
  }
  replace(box, message || '');
  box.hidden = !message;
}

// toast tells a person briefly that something happened (or failed), in a
// live region that screen readers announce.
export function toast(text, { error = false } = {}) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const el = h('div', { class: error ? 'toast error' : 'toast' }, text);
  box.append(el);
  setTimeout(() => el.remove(), error ? 8000 : 4000);
}
