// What travels inside and around a secret-chat ratchet message, version 1
// (docs/secret-chats.md, "Payload and envelopes"):
//
//   payload  = 0x01 || kind (0x01 = text) || franking key (32) ||
//              u32(expire seconds, 0 = no timer) || u64(sent at, Unix ms) || text (UTF-8)
//   envelope = 0x01 || initial header || ratchet message   (a prekey envelope)
//            | 0x02 || ratchet message                     (a session envelope)
//
// Sending a text: payload = encodePayload(...), commitment = commit(key,
// UTF-8 text) (secret-franking.js), message = session.encrypt(payload,
// commitment), body = encodeEnvelope(...); the commitment goes to the server
// next to the body. Receiving is the reverse, and a message whose
// commitment does not open is dropped.
import {
  SecretError, concatBytes, decodeInitialHeader, decodeMessage, encodeInitialHeader, initialHeaderSize,
} from './secret-protocol.js';

export const PayloadKindText = 1;
// MaxTextLength is the longest text, in characters (code points), as for
// ordinary messages.
export const MaxTextLength = 4096;

const payloadVersion = 1;
const payloadMinSize = 1 + 1 + 32 + 4 + 8;
const envelopePreKey = 1;
const envelopeSession = 2;
const utf8 = new TextEncoder();
// fatal: text that is not UTF-8 is refused, not repaired; ignoreBOM: a
// leading U+FEFF is part of the text, as Go reads it.
const strictUTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// Payload errors are secret/device's (secret_bad_payload); envelope
// errors are the protocol's (secret_malformed).
function badPayload(where) {
  return new SecretError('secret_bad_payload', `payload: ${where}`);
}

function malformed(where) {
  return new SecretError('secret_malformed', where);
}

// longerThan reports whether s has more than max code points, without
// counting all of a long text.
function longerThan(s, max) {
  if (s.length <= max) return false; // a code point is one or two UTF-16 units
  let n = 0;
  for (const _ of s) if (++n > max) return true;
  return false;
}

// encodePayload writes a text payload from {frankingKey (32 bytes),
// expireSeconds (0 = no timer), sentAt (Unix ms), text}, as secret/device
// does: text over MaxTextLength characters is secret_text_too_long, any
// other field out of range secret_bad_payload.
export function encodePayload({ frankingKey, expireSeconds = 0, sentAt, text }) {
  if (!(frankingKey instanceof Uint8Array) || frankingKey.length !== 32) throw badPayload('franking key is not 32 bytes');
  if (!Number.isInteger(expireSeconds) || expireSeconds < 0 || expireSeconds > 0xffffffff) throw badPayload(`timer ${expireSeconds}`);
  if (!Number.isSafeInteger(sentAt) || sentAt < 0) throw badPayload(`time ${sentAt}`);
  if (typeof text !== 'string' || !text.isWellFormed()) throw badPayload('text is not a well-formed string');
  if (longerThan(text, MaxTextLength)) throw new SecretError('secret_text_too_long', `payload: text over ${MaxTextLength} characters`);
  const body = utf8.encode(text);
  const out = new Uint8Array(payloadMinSize + body.length);
  const view = new DataView(out.buffer);
  out[0] = payloadVersion;
  out[1] = PayloadKindText;
  out.set(frankingKey, 2);
  view.setUint32(34, expireSeconds);
  view.setBigUint64(38, BigInt(sentAt));
  out.set(body, payloadMinSize);
  return out;
}

// decodePayload reads a payload: {kind: 'text', frankingKey, expireSeconds,
// sentAt, text}. Like secret/device it refuses, with secret_bad_payload,
// fewer than 46 bytes, another version or kind, a time of 2^63 ms or more,
// text that is not UTF-8 and text over MaxTextLength characters. sentAt is
// a Number, exact up to 2^53 ms: past any date a Date can hold.
export function decodePayload(data) {
  if (!(data instanceof Uint8Array) || data.length < payloadMinSize) throw badPayload(`${data?.length} bytes`);
  if (data[0] !== payloadVersion) throw badPayload(`version ${data[0]}`);
  if (data[1] !== PayloadKindText) throw badPayload(`kind ${data[1]}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const sentAt = view.getBigUint64(38);
  if (sentAt >= 2n ** 63n) throw badPayload(`time ${sentAt} ms`);
  let text;
  try {
    text = strictUTF8.decode(data.subarray(payloadMinSize));
  } catch {
    throw badPayload('text is not UTF-8');
  }
  if (longerThan(text, MaxTextLength)) throw badPayload(`text over ${MaxTextLength} characters`);
  return { kind: 'text', frankingKey: data.slice(2, 34), expireSeconds: view.getUint32(34), sentAt: Number(sentAt), text };
}

// encodeEnvelope writes the body the server relays: a prekey envelope if
// initialHeader (from initiate) is given — the initiator sends those until
// it has decrypted a reply — else a session envelope. message is an encoded
// ratchet message (Session.encrypt).
export function encodeEnvelope({ initialHeader = null, message }) {
  decodeMessage(message); // refuse to wrap what the other side cannot read
  if (!initialHeader) return concatBytes(Uint8Array.of(envelopeSession), message);
  return concatBytes(Uint8Array.of(envelopePreKey), encodeInitialHeader(initialHeader), message);
}

// decodeEnvelope reads a relayed body: {initialHeader (decoded, or null for
// a session envelope), message}. The initial header must decode and the
// ratchet message must be well-formed; anything else is secret_malformed.
export function decodeEnvelope(body) {
  if (!(body instanceof Uint8Array) || body.length < 1) throw malformed('envelope: empty');
  let initialHeader = null;
  let rest = body.subarray(1);
  if (body[0] === envelopePreKey) {
    const n = initialHeaderSize(rest);
    if (!n) throw malformed('envelope: initial header');
    initialHeader = decodeInitialHeader(rest.subarray(0, n));
    rest = rest.subarray(n);
  } else if (body[0] !== envelopeSession) {
    throw malformed(`envelope: type ${body[0]}`);
  }
  decodeMessage(rest);
  return { initialHeader, message: rest.slice() };
}
