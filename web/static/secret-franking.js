// Message franking, the client's half (secret/franking is the Go side and
// its package comment the specification): the sender commits to each
// message's text under a fresh franking key, the recipient checks the
// commitment before showing the message, and to report it reveals the text
// and key with the server's tag in a report whose JSON is byte-identical to
// Go's Report.MarshalJSON. Tags are made and checked by the server with its
// own secret; a client can only check their shape.
import { SecretError, concatBytes, randomBytes } from './secret-protocol.js';

const subtle = globalThis.crypto.subtle;
const utf8 = new TextEncoder();

export const FrankingKeySize = 32;
export const CommitmentSize = 32;
// TagSize is a server tag's size: a key-ID byte and an HMAC-SHA256.
export const TagSize = 33;

const commitLabel = utf8.encode('kurir franking v1 commit');
const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

// newFrankingKey draws a fresh key; every message gets its own.
export function newFrankingKey(random = randomBytes) {
  const key = random(FrankingKeySize);
  if (!(key instanceof Uint8Array) || key.length !== FrankingKeySize) throw new Error('franking: random source gave no key');
  return Uint8Array.from(key);
}

// lp is the 8-byte big-endian length of x, then x.
function lp(x) {
  const out = new Uint8Array(8 + x.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(x.length));
  out.set(x, 8);
  return out;
}

function commitKey(key, usage) {
  if (!(key instanceof Uint8Array) || key.length !== FrankingKeySize) throw new TypeError(`franking key must be ${FrankingKeySize} bytes`);
  return subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, [usage]);
}

// commit returns the 32-byte commitment HMAC-SHA256(key, lp(label) ||
// lp(plaintext)), plaintext being the message text's bytes.
export async function commit(key, plaintext) {
  const mac = await subtle.sign('HMAC', await commitKey(key, 'sign'), concatBytes(lp(commitLabel), lp(plaintext)));
  return new Uint8Array(mac);
}

// openCommitment checks that commitment is plaintext's under key, and
// throws franking_bad_commitment if not: the recipient then drops the
// message, so that nobody sees a message they could not report. WebCrypto's
// HMAC verify compares in constant time.
export async function openCommitment(key, plaintext, commitment) {
  const ok = commitment instanceof Uint8Array && commitment.length === CommitmentSize &&
    await subtle.verify('HMAC', await commitKey(key, 'verify'), commitment, concatBytes(lp(commitLabel), lp(plaintext)));
  if (!ok) throw new SecretError('franking_bad_commitment', 'franking');
}

// parseTag checks a server tag's shape and returns {keyId, tag}; what it
// vouches for only the server can check.
export function parseTag(tag) {
  if (!(tag instanceof Uint8Array) || tag.length !== TagSize) {
    throw new SecretError('franking_bad_tag', `franking: tag of ${tag?.length} bytes, want ${TagSize}`);
  }
  return { keyId: tag[0], tag };
}

// encodeReport writes the report a recipient sends to POST
// /api/v1/secret/reports, byte for byte as Go's Report.MarshalJSON:
//
//   {"v":1,"plaintext":B64,"franking_key":B64,"commitment":B64,"tag":B64,
//    "sender":N,"sender_device":N,"recipient":N,"recipient_device":N,
//    "at_us":N,"envelope":S}
//
// report is {plaintext, frankingKey, commitment, tag, sender, senderDevice,
// recipient, recipientDevice, atMicros, envelope}; the numbers are integers
// (Number or BigInt, within int64), atMicros the envelope's at_us.
export function encodeReport(r) {
  const fixed = (name, b, n) => {
    if (!(b instanceof Uint8Array) || b.length !== n) throw new TypeError(`report: ${name} must be ${n} bytes`);
    return base64(b);
  };
  if (!(r.plaintext instanceof Uint8Array)) throw new TypeError('report: plaintext must be bytes');
  if (typeof r.envelope !== 'string') throw new TypeError('report: envelope must be a string');
  const fields = [
    ['v', '1'],
    ['plaintext', goString(base64(r.plaintext))],
    ['franking_key', goString(fixed('franking key', r.frankingKey, FrankingKeySize))],
    ['commitment', goString(fixed('commitment', r.commitment, CommitmentSize))],
    ['tag', goString(fixed('tag', r.tag, TagSize))],
    ['sender', int64('sender', r.sender)],
    ['sender_device', int64('sender device', r.senderDevice)],
    ['recipient', int64('recipient', r.recipient)],
    ['recipient_device', int64('recipient device', r.recipientDevice)],
    ['at_us', int64('at_us', r.atMicros)],
    ['envelope', goString(r.envelope)],
  ];
  return `{${fields.map(([k, v]) => `"${k}":${v}`).join(',')}}`;
}

function int64(name, v) {
  const ok = typeof v === 'bigint' ? v >= int64Min && v <= int64Max : Number.isSafeInteger(v);
  if (!ok) throw new RangeError(`report: ${name} ${v} is not an integer JavaScript can carry exactly`);
  return String(v);
}

// base64 is standard base64 with padding, as Go's StdEncoding writes it.
function base64(b) {
  let bin = '';
  for (let i = 0; i < b.length; i += 0x8000) bin += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(bin);
}

// goString quotes s as Go's encoding/json does, which differs from
// JSON.stringify: it also escapes <, > and & (as \u003c ...), U+2028 and
// U+2029, and writes what is not valid UTF-8 (here: a lone surrogate) as
// \ufffd.
function goString(s) {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) out += '\\u' + c.toString(16).padStart(4, '0');
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else out += ch;
  }
  return out + '"';
}
