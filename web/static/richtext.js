// Message text with its web addresses and @mentions made into links. Only
// http and https addresses become links, opened in a new tab that learns
// nothing of the app (rel=noopener noreferrer); everything else stays text,
// so a message can never inject markup or a javascript: link.
import { h } from './dom.js';

// A web address, or an @name as usernames are spelled (4 to 32 letters,
// digits and underscores), not inside a word or an e-mail address.
const pattern = /\bhttps?:\/\/[^\s<>"'`]+|(?<![\p{L}\p{N}_@.])@[A-Za-z0-9_]{4,32}\b/giu;
// Punctuation that ends a sentence rather than the address it follows.
const trailing = /[.,;:!?'")\]}>»”’]+$/u;

// richText returns text as nodes: text, and a elements for addresses and
// mentions. onMention(name, event) is called when a mention is clicked.
export function richText(text, onMention) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    let token = m[0];
    const start = m.index;
    if (token[0] !== '@') {
      const tail = token.match(trailing);
      if (tail) {
        token = token.slice(0, token.length - tail[0].length);
        // Keep a closing bracket that closes one opened in the address.
        const open = token.split('(').length - token.split(')').length;
        if (tail[0][0] === ')' && open > 0) token += ')';
      }
      const link = safeURL(token);
      if (!link) continue;
      if (start > last) out.push(text.slice(last, start));
      out.push(h('a', { href: link, target: '_blank', rel: 'noopener noreferrer', class: 'link', dir: 'ltr' }, token));
    } else {
      if (start > last) out.push(text.slice(last, start));
      const name = token.slice(1);
      const a = h('a', { href: `/c/${encodeURIComponent(name)}`, class: 'mention', dir: 'ltr' }, token);
      a.addEventListener('click', (e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        onMention(name, e);
      });
      out.push(a);
    }
    last = start + token.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

// safeURL returns the address as a link may use it, or '' if it is not an
// http or https one.
function safeURL(s) {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : '';
  } catch {
    return '';
  }
}
