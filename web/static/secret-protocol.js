// The kurir secret chat protocol, version 1, with WebCrypto: identity keys,
// prekeys and bundles, the X3DH agreement, the Double Ratchet, session state
// and safety numbers. docs/secret-chats.md is the byte-exact specification
// and secret/protocol the Go implementation; this module reproduces
// secret/protocol/testdata/vectors.json (web/jstest/secret_vectors.mjs) and
// talks to Go (web/secret_js_test.go).
//
// Keys are plain objects of raw bytes (Uint8Array), so they can be stored in
// IndexedDB as they are; they become WebCrypto keys only for the moment they
// are used. Every function that draws randomness takes `random`, a function
// that returns n random bytes (crypto.getRandomValues by default), so that
// tests can replay the vectors. Everything that computes is async, because
// WebCrypto is. Failures throw a SecretError whose reason is the Go error's
// (secret/protocol/errors.go).

const subtle = globalThis.crypto.subtle;
const utf8 = new TextEncoder();

// Bounds on skipped message keys and message size, as in Go.
export const MaxSkip = 1000;
export const MaxSkippedKeys = 2000;
export const MaxPlaintextSize = 1 << 20;
// HeaderSize is the length of a ratchet message's header.
export const HeaderSize = 1 + 32 + 4 + 4;

const version = 1; // of every encoding in this file
const tagSize = 16; // AES-GCM
const adSize = 128;
const maxUint32 = 0xffffffff;
const bundleSizeNoOPK = 1 + 32 + 32 + 4 + 32 + 64 + 1;
const bundleSizeOPK = bundleSizeNoOPK + 4 + 32;
const initialHeaderSizeNoOPK = 1 + 32 + 32 + 32 + 4 + 1;
const initialHeaderSizeOPK = initialHeaderSizeNoOPK + 4;
const stateFixedSize = 1 + adSize + 32 + 32 + 32 + 1 + 32 + 32 + 4 + 4 + 4 + 4;
const skippedEntrySize = 32 + 4 + 32;
const flagHasSend = 1;
const flagHasRecv = 2;
const safetyIterations = 5200;

// The HKDF info strings and the signed prekey prefix are part of the wire
// protocol: changing one is a new protocol version.
const infoX3DH = utf8.encode('kurir secret chat v1 X3DH');
const infoRatchet = utf8.encode('kurir secret chat v1 ratchet');
const infoMessageKeys = utf8.encode('kurir secret chat v1 message keys');
const signedPreKeyPrefix = utf8.encode('kurir secret chat v1 signed prekey');
const zeroSalt = new Uint8Array(32);
const x3dhPrefix = new Uint8Array(32).fill(0xff);

// Errors -------------------------------------------------------------------

// The errors of the secret-chat modules: reason -> [code, message]. The
// reasons and codes are Go's: secret/protocol/errors.go, then the payload's
// of secret/device/errors.go, then secret/franking's.
const errorKinds = {
  secret_malformed: ['invalid', 'malformed secret chat data'],
  secret_bad_signature: ['invalid', 'signed prekey signature does not verify'],
  secret_bad_key: ['invalid', 'unusable public key'],
  secret_prekey_mismatch: ['conflict', 'initial message names a prekey this device does not hold'],
  secret_no_sending_chain: ['conflict', 'cannot send before the first message from the other side has been received'],
  secret_too_many_skipped: ['invalid', 'message is too far ahead of its chain (more than MaxSkip messages skipped)'],
  secret_replay: ['conflict', 'message was already decrypted or its key was discarded'],
  secret_decrypt_failed: ['invalid', 'message failed authentication'],
  secret_too_large: ['invalid', 'message is too large'],
  secret_counter_exhausted: ['conflict', 'session message counter exhausted'],
  secret_bad_payload: ['invalid', 'malformed secret chat payload'],
  secret_text_too_long: ['invalid', 'secret chat message is too long'],
  franking_bad_commitment: ['invalid', 'the message does not match its franking commitment'],
  franking_bad_tag: ['invalid', 'franking tag is not the server\'s tag for this message'],
};

// SecretError is a refusal by the protocol: reason is the stable cause
// ('secret_replay', ...) and code its category ('invalid' or 'conflict'),
// as the server's problem details have them. The message says where.
export class SecretError extends Error {
  constructor(reason, where = '') {
    const [code, text] = errorKinds[reason] || ['invalid', reason];
    super(where ? `${where}: ${text}` : text);
    this.name = 'SecretError';
    this.code = code;
    this.reason = reason;
  }
}

function malformed(where) {
  return new SecretError('secret_malformed', where);
}

// Bytes --------------------------------------------------------------------

// concatBytes joins byte strings into a new one.
export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

// equalBytes compares in time that depends only on the lengths: it also
// compares ratchet keys an attacker chooses.
export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function isZero(b) {
  return b.every((x) => x === 0);
}

// u32 encodes n as 4 bytes big-endian; IDs and counters are checked here
// because JavaScript numbers would otherwise wrap silently.
function u32(n) {
  if (!Number.isInteger(n) || n < 0 || n > maxUint32) throw new RangeError(`${n} is not a uint32`);
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

function readU32(b, off) {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off);
}

function bytes32(b, what) {
  if (!(b instanceof Uint8Array) || b.length !== 32) throw new TypeError(`${what} must be 32 bytes`);
  return b;
}

// randomBytes is the default source of randomness.
export function randomBytes(n) {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

// draw reads n bytes from random, refusing a source that gives fewer: a
// short key would be a weak key.
function draw(random, n) {
  const b = random(n);
  if (!(b instanceof Uint8Array) || b.length !== n) throw new Error(`secret: random source gave no ${n} bytes`);
  return Uint8Array.from(b);
}

// WebCrypto keys ------------------------------------------------------------

// Raw private keys enter WebCrypto as PKCS#8: the fixed DER prefix of RFC
// 8410 for the algorithm, then the 32 raw bytes (X25519 clamps them itself,
// as Go does; for Ed25519 they are the seed).
const pkcs8Prefix = {
  X25519: Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20),
  Ed25519: Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20),
};

// importPrivate is the costly step of using a key (the import computes the
// public key), so each key is imported once per operation and reused.
function importPrivate(alg, raw, usages, extractable = false) {
  return subtle.importKey('pkcs8', concatBytes(pkcs8Prefix[alg], raw), { name: alg }, extractable, usages);
}

function importX25519(raw) {
  return importPrivate('X25519', raw, ['deriveBits']);
}

// publicKeyOf returns the raw public key of an extractable private
// CryptoKey: WebCrypto has no call for it, but the key's JWK carries its
// public half in x.
async function publicKeyOf(key) {
  const { x } = await subtle.exportKey('jwk', key);
  return fromBase64URL(x);
}

function fromBase64URL(s) {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

// keyPair completes a raw X25519 private key with its public key and its
// imported form, key, which a session keeps for its ratchet key pair (and
// never serialises) so that each ratchet step imports one key, not three.
async function keyPair(privateKey) {
  const key = await importPrivate('X25519', privateKey, ['deriveBits'], true);
  return { privateKey, publicKey: await publicKeyOf(key), key };
}

// storable drops key, which has no place in what is persisted.
function storable({ privateKey, publicKey }) {
  return { privateKey, publicKey };
}

// The low-order points of Curve25519 (and its twist) by u-coordinate,
// little-endian, with the top bit masked as X25519 masks it: 0, 1, the two
// points of order 8, p-1, and the non-canonical p and p+1. Go finds them by
// computing X25519 with a zero scalar and looking for an all-zero result;
// WebCrypto implementations refuse that result each in their own way, so
// the points are listed instead. These are exactly the points Go refuses
// (web/jstest checks the list against X25519 itself).
const lowOrderPoints = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((h) => Uint8Array.from(h.match(/../g), (x) => parseInt(x, 16)));

function isLowOrder(pub) {
  const u = Uint8Array.from(pub);
  u[31] &= 0x7f;
  return lowOrderPoints.some((p) => equalBytes(p, u));
}

// dh is X25519(privateKey, publicKey), privateKey an imported CryptoKey.
// An all-zero result means the peer sent a low-order point: that is an
// error, never a key. Browsers may also refuse such a point themselves;
// either way it is secret_bad_key.
async function dh(privateKey, publicKey, where) {
  let out;
  try {
    const pub = await subtle.importKey('raw', publicKey, { name: 'X25519' }, false, []);
    out = new Uint8Array(await subtle.deriveBits({ name: 'X25519', public: pub }, privateKey, 256));
  } catch {
    throw new SecretError('secret_bad_key', where);
  }
  if (isZero(out)) throw new SecretError('secret_bad_key', where);
  return out;
}

// KDFs ---------------------------------------------------------------------

async function hkdf(salt, ikm, info, length) {
  const key = await subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, key, length * 8));
}

// kdfRK is the root-key KDF: HKDF(salt = rk, ikm = dhOut) -> new root key,
// chain key.
async function kdfRK(rk, dhOut) {
  const out = await hkdf(rk, dhOut, infoRatchet, 64);
  return { rootKey: out.slice(0, 32), chainKey: out.slice(32) };
}

// kdfCK is the chain-key KDF: message key = HMAC(ck, 0x01), next chain key
// = HMAC(ck, 0x02).
async function kdfCK(ck) {
  const key = await subtle.importKey('raw', ck, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const [mk, next] = await Promise.all([
    subtle.sign('HMAC', key, Uint8Array.of(1)),
    subtle.sign('HMAC', key, Uint8Array.of(2)),
  ]);
  return { messageKey: new Uint8Array(mk), chainKey: new Uint8Array(next) };
}

// messageKeys expands a message key into the AES-256 key and the GCM nonce.
// Each message key encrypts one message, so the nonce is never reused.
async function messageKeys(mk) {
  const out = await hkdf(zeroSalt, mk, infoMessageKeys, 44);
  return { aesKey: out.slice(0, 32), nonce: out.slice(32) };
}

function x3dhSecret(dhs) {
  return hkdf(zeroSalt, concatBytes(x3dhPrefix, ...dhs), infoX3DH, 32);
}

async function seal(mk, plaintext, additionalData) {
  const { aesKey, nonce } = await messageKeys(mk);
  const key = await subtle.importKey('raw', aesKey, 'AES-GCM', false, ['encrypt']);
  return new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData, tagLength: 128 }, key, plaintext));
}

async function open(mk, ciphertext, additionalData, n) {
  const { aesKey, nonce } = await messageKeys(mk);
  const key = await subtle.importKey('raw', aesKey, 'AES-GCM', false, ['decrypt']);
  try {
    return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData, tagLength: 128 }, key, ciphertext));
  } catch {
    throw new SecretError('secret_decrypt_failed', `decrypt: message ${n}`);
  }
}

// primitives are the protocol's building blocks, exported so that the test
// vectors can check every step; the app has no use for them.
export const primitives = {
  dh: async (privateKey, publicKey) => dh(await importX25519(privateKey), publicKey, 'dh'),
  kdfRK,
  kdfCK,
  messageKeys,
  x3dhSecret,
  signedPreKeyMessage,
  isLowOrder,
};

// isSupported reports whether this browser's WebCrypto has what the
// protocol needs beyond the long-standing primitives: X25519 and Ed25519
// (Chrome 137, Firefox 130 and Safari 17 have both).
export async function isSupported() {
  try {
    const probe = randomBytes(32);
    await importPrivate('X25519', probe, ['deriveBits']);
    await importPrivate('Ed25519', probe, ['sign']);
    return true;
  } catch {
    return false;
  }
}

// Keys ---------------------------------------------------------------------

// generateIdentityKey makes a device's identity: an X25519 key pair and a
// separate Ed25519 key pair (WebCrypto has no XEdDSA). It reads 32 bytes
// for the X25519 private key, then 32 for the Ed25519 seed. The result,
// {dh: {privateKey, publicKey}, sign: {privateKey (the seed), publicKey}},
// never leaves the device.
export async function generateIdentityKey(random = randomBytes) {
  const dhKey = storable(await keyPair(draw(random, 32)));
  const seed = draw(random, 32);
  const signKey = await importPrivate('Ed25519', seed, ['sign'], true);
  return { dh: dhKey, sign: { privateKey: seed, publicKey: await publicKeyOf(signKey) } };
}

// publicIdentity is what others know of an identity: {dh, sign}, the two
// 32-byte public keys.
export function publicIdentity(identity) {
  return { dh: identity.dh.publicKey, sign: identity.sign.publicKey };
}

// encodePublicIdentity is the 64 bytes the server API calls the identity:
// X25519 public key || Ed25519 public key.
export function encodePublicIdentity(pub) {
  return concatBytes(bytes32(pub.dh, 'identity X25519 key'), bytes32(pub.sign, 'identity Ed25519 key'));
}

// decodePublicIdentity reads the 64 bytes back as {dh, sign}.
export function decodePublicIdentity(b) {
  if (!(b instanceof Uint8Array) || b.length !== 64) throw malformed('identity');
  return { dh: b.slice(0, 32), sign: b.slice(32) };
}

// generateSignedPreKey reads a 32-byte X25519 private key and signs it
// with the identity: {id, privateKey, publicKey, signature}.
export async function generateSignedPreKey(id, identity, random = randomBytes) {
  const { privateKey, publicKey } = await keyPair(draw(random, 32));
  const signer = await importPrivate('Ed25519', identity.sign.privateKey, ['sign']);
  const msg = signedPreKeyMessage(identity.dh.publicKey, id, publicKey);
  const signature = new Uint8Array(await subtle.sign('Ed25519', signer, msg));
  return { id, privateKey, publicKey, signature };
}

// generateOneTimePreKey reads a 32-byte X25519 private key:
// {id, privateKey, publicKey}.
export async function generateOneTimePreKey(id, random = randomBytes) {
  u32(id);
  return { id, ...storable(await keyPair(draw(random, 32))) };
}

// signedPreKeyMessage is what the identity signs: the prefix, the
// identity's X25519 key (so the signing key vouches for it too), the
// prekey's ID and key.
function signedPreKeyMessage(identityDH, id, key) {
  return concatBytes(signedPreKeyPrefix, identityDH, u32(id), key);
}

// Bundles ------------------------------------------------------------------

// makeBundle is what a device publishes for one claim, as an object:
// {identity: {dh, sign}, signedPreKey: {id, key}, signature,
// oneTimePreKey: {id, key} or null}.
export function makeBundle(identity, signedPreKey, oneTimePreKey = null) {
  return {
    identity: publicIdentity(identity),
    signedPreKey: { id: signedPreKey.id, key: signedPreKey.publicKey },
    signature: signedPreKey.signature,
    oneTimePreKey: oneTimePreKey && { id: oneTimePreKey.id, key: oneTimePreKey.publicKey },
  };
}

// encodeBundle writes version 1: 166 bytes, or 202 with a one-time prekey.
export function encodeBundle(b) {
  if (b.signature.length !== 64) throw new TypeError('signature must be 64 bytes');
  const parts = [
    Uint8Array.of(version), bytes32(b.identity.dh, 'identity X25519 key'), bytes32(b.identity.sign, 'identity Ed25519 key'),
    u32(b.signedPreKey.id), bytes32(b.signedPreKey.key, 'signed prekey'), b.signature,
  ];
  if (!b.oneTimePreKey) return concatBytes(...parts, Uint8Array.of(0));
  return concatBytes(...parts, Uint8Array.of(1), u32(b.oneTimePreKey.id), bytes32(b.oneTimePreKey.key, 'one-time prekey'));
}

// decodeBundle reads a bundle, refusing any other length, version, flag or
// trailing bytes. It does not verify it: initiate does (or verifyBundle).
export function decodeBundle(data) {
  if (data.length !== bundleSizeNoOPK && data.length !== bundleSizeOPK) {
    throw malformed(`bundle: ${data.length} bytes, want ${bundleSizeNoOPK} or ${bundleSizeOPK}`);
  }
  if (data[0] !== version) throw malformed(`bundle: version ${data[0]}`);
  const flag = data[165];
  const withOPK = flag === 1 && data.length === bundleSizeOPK;
  if (!withOPK && !(flag === 0 && data.length === bundleSizeNoOPK)) {
    throw malformed(`bundle: one-time prekey flag ${flag} with ${data.length} bytes`);
  }
  return {
    identity: { dh: data.slice(1, 33), sign: data.slice(33, 65) },
    signedPreKey: { id: readU32(data, 65), key: data.slice(69, 101) },
    signature: data.slice(101, 165),
    oneTimePreKey: withOPK ? { id: readU32(data, 166), key: data.slice(170, 202) } : null,
  };
}

// verifyBundle checks a bundle before anyone encrypts to it: the signed
// prekey's signature, then that no X25519 key is a low-order point. It
// throws secret_bad_signature or secret_bad_key, naming the field.
export async function verifyBundle(b) {
  const msg = signedPreKeyMessage(b.identity.dh, b.signedPreKey.id, b.signedPreKey.key);
  let ok = false;
  try {
    const key = await subtle.importKey('raw', b.identity.sign, { name: 'Ed25519' }, false, ['verify']);
    ok = await subtle.verify('Ed25519', key, b.signature, msg);
  } catch {
    // A key that is not a point cannot have signed anything (Go's
    // ed25519.Verify answers false too).
  }
  if (!ok) throw new SecretError('secret_bad_signature', `bundle: signed prekey ${b.signedPreKey.id}`);
  if (isLowOrder(b.identity.dh)) throw new SecretError('secret_bad_key', 'bundle: identity key');
  if (isLowOrder(b.signedPreKey.key)) throw new SecretError('secret_bad_key', 'bundle: signed prekey');
  if (b.oneTimePreKey && isLowOrder(b.oneTimePreKey.key)) throw new SecretError('secret_bad_key', 'bundle: one-time prekey');
}

// Initial header -----------------------------------------------------------

// An initial header is {identity: {dh, sign}, ephemeral, signedPreKeyId,
// oneTimePreKeyId (null if none)}: what the initiator attaches to its
// messages until it has decrypted a reply.

// encodeInitialHeader writes version 1: 102 bytes, or 106 when it names a
// one-time prekey.
export function encodeInitialHeader(h) {
  const parts = [
    Uint8Array.of(version), bytes32(h.identity.dh, 'identity X25519 key'), bytes32(h.identity.sign, 'identity Ed25519 key'),
    bytes32(h.ephemeral, 'ephemeral key'), u32(h.signedPreKeyId),
  ];
  if (h.oneTimePreKeyId == null) return concatBytes(...parts, Uint8Array.of(0));
  return concatBytes(...parts, Uint8Array.of(1), u32(h.oneTimePreKeyId));
}

// initialHeaderSize is the length of the initial header at the start of
// data, judged by its flag byte, or 0 if data cannot start with one.
export function initialHeaderSize(data) {
  if (data.length < initialHeaderSizeNoOPK) return 0;
  return [initialHeaderSizeNoOPK, initialHeaderSizeOPK][data[initialHeaderSizeNoOPK - 1]] || 0;
}

// decodeInitialHeader reads an initial header, refusing any other length,
// version or flag.
export function decodeInitialHeader(data) {
  if (data.length !== initialHeaderSizeNoOPK && data.length !== initialHeaderSizeOPK) {
    throw malformed(`initial header: ${data.length} bytes`);
  }
  if (data[0] !== version) throw malformed(`initial header: version ${data[0]}`);
  const flag = data[101];
  const withOPK = flag === 1 && data.length === initialHeaderSizeOPK;
  if (!withOPK && !(flag === 0 && data.length === initialHeaderSizeNoOPK)) {
    throw malformed(`initial header: one-time prekey flag ${flag} with ${data.length} bytes`);
  }
  return {
    identity: { dh: data.slice(1, 33), sign: data.slice(33, 65) },
    ephemeral: data.slice(65, 97),
    signedPreKeyId: readU32(data, 97),
    oneTimePreKeyId: withOPK ? readU32(data, 102) : null,
  };
}

// Ratchet messages ---------------------------------------------------------

// encodeHeader writes a ratchet header: 0x01 || DH (32) || PN || N.
function encodeHeader(h) {
  return concatBytes(Uint8Array.of(version), h.dh, u32(h.pn), u32(h.n));
}

// decodeMessage splits an encoded ratchet message into {header: {dh, pn, n},
// ciphertext}, refusing a bad header or a ciphertext shorter than the GCM
// tag or longer than MaxPlaintextSize allows.
export function decodeMessage(data) {
  if (data.length < HeaderSize + tagSize || data.length > HeaderSize + MaxPlaintextSize + tagSize || data[0] !== version) {
    throw malformed(`message: ${data.length} bytes`);
  }
  return {
    header: { dh: data.slice(1, 33), pn: readU32(data, 33), n: readU32(data, 37) },
    ciphertext: data.subarray(HeaderSize),
  };
}

// X3DH ---------------------------------------------------------------------

function associatedData(initiator, responder) {
  return concatBytes(initiator.dh, initiator.sign, responder.dh, responder.sign);
}

// initiate starts a session with the device whose bundle this is. It
// verifies the bundle, reads the ephemeral key (32 bytes) and the first
// ratchet key (32 bytes) from random, and returns {session, initialHeader}:
// the header goes with every message until a reply has been decrypted.
// The session keeps random for its later ratchet keys.
export async function initiate(identity, bundle, random = randomBytes) {
  await verifyBundle(bundle);
  const ek = await keyPair(draw(random, 32));
  const spk = bundle.signedPreKey.key;
  const dhs = [
    await dh(await importX25519(identity.dh.privateKey), spk, 'initiate: DH1'),
    await dh(ek.key, bundle.identity.dh, 'initiate: DH2'),
    await dh(ek.key, spk, 'initiate: DH3'),
  ];
  const opk = bundle.oneTimePreKey;
  if (opk) dhs.push(await dh(ek.key, opk.key, 'initiate: DH4'));
  const sk = await x3dhSecret(dhs);
  const initialHeader = {
    identity: publicIdentity(identity),
    ephemeral: ek.publicKey,
    signedPreKeyId: bundle.signedPreKey.id,
    oneTimePreKeyId: opk ? opk.id : null,
  };
  const self = await keyPair(draw(random, 32));
  const { rootKey, chainKey } = await kdfRK(sk, await dh(self.key, spk, 'initiate: ratchet'));
  const state = { ...emptyState(), rootKey, self, remote: spk, sendCK: chainKey, hasSend: true };
  const session = new Session(associatedData(initialHeader.identity, bundle.identity), state, [], random);
  return { session, initialHeader };
}

// respond completes the agreement on the responder's side from the
// initiator's header. signedPreKey and oneTimePreKey (null if the header
// names none) are the prekeys the header names, which the caller looks up;
// a mismatch throws secret_prekey_mismatch. Delete the one-time prekey only
// after the first message decrypts with the returned session.
export async function respond(identity, signedPreKey, oneTimePreKey, header, random = randomBytes) {
  const where = 'respond';
  if (header.signedPreKeyId !== signedPreKey.id) {
    throw new SecretError('secret_prekey_mismatch', `${where}: signed prekey ${header.signedPreKeyId}, have ${signedPreKey.id}`);
  }
  const named = header.oneTimePreKeyId;
  if (named != null && !oneTimePreKey) throw new SecretError('secret_prekey_mismatch', `${where}: one-time prekey ${named} not held`);
  if (named == null && oneTimePreKey) throw new SecretError('secret_prekey_mismatch', `${where}: header names no one-time prekey`);
  if (named != null && named !== oneTimePreKey.id) {
    throw new SecretError('secret_prekey_mismatch', `${where}: one-time prekey ${named}, have ${oneTimePreKey.id}`);
  }
  const spk = await keyPair(signedPreKey.privateKey); // also the first ratchet key pair
  const dhs = [
    await dh(spk.key, header.identity.dh, `${where}: initiator identity`),
    await dh(await importX25519(identity.dh.privateKey), header.ephemeral, `${where}: ephemeral`),
    await dh(spk.key, header.ephemeral, `${where}: ephemeral`),
  ];
  if (oneTimePreKey) dhs.push(await dh(await importX25519(oneTimePreKey.privateKey), header.ephemeral, `${where}: ephemeral`));
  const state = { ...emptyState(), rootKey: await x3dhSecret(dhs), self: spk };
  return new Session(associatedData(header.identity, publicIdentity(identity)), state, [], random);
}

// Double Ratchet -----------------------------------------------------------

function emptyState() {
  const zero = new Uint8Array(32);
  return {
    rootKey: zero, self: null, remote: zero, sendCK: zero, recvCK: zero,
    hasSend: false, hasRecv: false, ns: 0, nr: 0, pn: 0,
  };
}

// Session is one device's half of a secret chat with one other device: the
// Double Ratchet state after X3DH. Make one with initiate, respond or
// Session.deserialize, and store serialize() after every encrypt and
// successful decrypt. Calls on one session run one at a time, in the order
// they were made, so overlapping decrypts cannot lose keys.
export class Session {
  #ad;
  #st; // replaced as a whole, never changed in place: decrypt works on a copy
  #skipped; // [{dh, n, mk}], oldest first, replaced as a whole
  #random;
  #queue = Promise.resolve();

  constructor(ad, state, skipped, random) {
    this.#ad = ad;
    this.#st = state;
    this.#skipped = skipped;
    this.#random = random;
  }

  // associatedData is the session's 128-byte AD: both identities.
  associatedData() {
    return this.#ad.slice();
  }

  // encrypt encrypts plaintext as the next message of the sending chain and
  // returns the encoded message (header || ciphertext). ad is extra
  // associated data from the layer above; the recipient must pass the same
  // bytes to decrypt.
  encrypt(plaintext, ad = new Uint8Array(0)) {
    return this.#exclusive(() => this.#encrypt(plaintext, ad));
  }

  // decrypt authenticates and decrypts an encoded message with the extra
  // associated data the sender gave encrypt. Messages may come out of
  // order within the skipped-key bounds; a message already decrypted is
  // secret_replay. On any error the session is unchanged.
  decrypt(message, ad = new Uint8Array(0)) {
    return this.#exclusive(() => this.#decrypt(message, ad));
  }

  // serialize returns the session state (version 1, byte-identical to Go's
  // Session.MarshalBinary). It holds secret keys: store it as such.
  serialize() {
    const st = this.#st;
    const flags = (st.hasSend ? flagHasSend : 0) | (st.hasRecv ? flagHasRecv : 0);
    const fixed = concatBytes(
      Uint8Array.of(version), this.#ad, st.rootKey, st.self.privateKey, st.remote, Uint8Array.of(flags),
      st.sendCK, st.recvCK, u32(st.ns), u32(st.nr), u32(st.pn), u32(this.#skipped.length),
    );
    // Written in place: a full store is 2000 entries, called after every message.
    const out = new Uint8Array(stateFixedSize + this.#skipped.length * skippedEntrySize);
    const view = new DataView(out.buffer);
    out.set(fixed);
    let off = stateFixedSize;
    for (const k of this.#skipped) {
      out.set(k.dh, off);
      view.setUint32(off + 32, k.n);
      out.set(k.mk, off + 36);
      off += skippedEntrySize;
    }
    return out;
  }

  // deserialize restores a session from serialize's bytes, refusing wrong
  // lengths, versions, unknown flags, chain keys without their flag and more
  // than MaxSkippedKeys skipped keys. random supplies later ratchet keys.
  static async deserialize(data, random = randomBytes) {
    const where = 'session state';
    if (!(data instanceof Uint8Array) || data.length < stateFixedSize) throw malformed(`${where}: ${data.length} bytes`);
    if (data[0] !== version) throw malformed(`${where}: version ${data[0]}`);
    const field = (off) => data.slice(off, off + 32);
    const flags = data[225];
    if (flags & ~(flagHasSend | flagHasRecv)) throw malformed(`${where}: flags ${flags}`);
    const st = {
      rootKey: field(129), self: null, remote: field(193), sendCK: field(226), recvCK: field(258),
      hasSend: (flags & flagHasSend) !== 0, hasRecv: (flags & flagHasRecv) !== 0,
      ns: readU32(data, 290), nr: readU32(data, 294), pn: readU32(data, 298),
    };
    if ((!st.hasSend && !isZero(st.sendCK)) || (!st.hasRecv && !isZero(st.recvCK))) {
      throw malformed(`${where}: chain key without its flag`);
    }
    const count = readU32(data, 302);
    if (count > MaxSkippedKeys || data.length - stateFixedSize !== count * skippedEntrySize) {
      throw malformed(`${where}: ${count} skipped keys in ${data.length - stateFixedSize} bytes`);
    }
    const skipped = [];
    for (let off = stateFixedSize; off < data.length; off += skippedEntrySize) {
      skipped.push({ dh: field(off), n: readU32(data, off + 32), mk: field(off + 36) });
    }
    st.self = await keyPair(field(161));
    return new Session(data.slice(1, 129), st, skipped, random);
  }

  // #exclusive runs fn after every earlier call on this session has
  // settled: each works from the state the previous one left.
  #exclusive(fn) {
    const result = this.#queue.then(fn);
    this.#queue = result.catch(() => {});
    return result;
  }

  #gcmAD(header, ad) {
    return concatBytes(this.#ad, header, ad);
  }

  async #encrypt(plaintext, ad) {
    const st = this.#st;
    if (!st.hasSend) throw new SecretError('secret_no_sending_chain', 'encrypt');
    if (plaintext.length > MaxPlaintextSize) throw new SecretError('secret_too_large', `encrypt: ${plaintext.length} bytes`);
    if (st.ns === maxUint32) throw new SecretError('secret_counter_exhausted', 'encrypt');
    const { messageKey, chainKey } = await kdfCK(st.sendCK);
    const header = encodeHeader({ dh: st.self.publicKey, pn: st.pn, n: st.ns });
    const ciphertext = await seal(messageKey, plaintext, this.#gcmAD(header, ad));
    this.#st = { ...st, sendCK: chainKey, ns: st.ns + 1 };
    return concatBytes(header, ciphertext);
  }

  async #decrypt(message, ad) {
    const { header, ciphertext } = decodeMessage(message);
    const gcmAD = this.#gcmAD(message.subarray(0, HeaderSize), ad);
    if (header.n === maxUint32) throw new SecretError('secret_counter_exhausted', 'decrypt');
    const i = this.#skipped.findIndex((k) => k.n === header.n && equalBytes(k.dh, header.dh));
    if (i >= 0) {
      const plaintext = await open(this.#skipped[i].mk, ciphertext, gcmAD, header.n);
      this.#skipped = this.#skipped.filter((_, j) => j !== i);
      return plaintext;
    }

    const st = { ...this.#st }; // tentative; kept only if the message authenticates
    const found = [];
    if (!st.hasRecv || !equalBytes(header.dh, st.remote)) {
      await skipKeys(st, header.pn, found);
      await this.#ratchetStep(st, header.dh);
    } else if (header.n < st.nr) {
      throw new SecretError('secret_replay', `decrypt: message ${header.n}`);
    }
    await skipKeys(st, header.n, found);
    const { messageKey, chainKey } = await kdfCK(st.recvCK);
    st.recvCK = chainKey;
    st.nr++;
    const plaintext = await open(messageKey, ciphertext, gcmAD, header.n);
    this.#st = st;
    this.#skipped = this.#skipped.concat(found).slice(-MaxSkippedKeys); // the oldest go first
    return plaintext;
  }

  // #ratchetStep is the DH ratchet on a new ratchet key from the other side:
  // a receiving chain from DH(our key, theirs), then a new key pair of ours
  // (32 bytes from random) and a sending chain from DH(new key, theirs).
  async #ratchetStep(st, remote) {
    const recvDH = await dh(st.self.key, remote, 'decrypt: ratchet key');
    const self = await keyPair(draw(this.#random, 32));
    const sendDH = await dh(self.key, remote, 'decrypt: ratchet key');
    const recv = await kdfRK(st.rootKey, recvDH);
    const send = await kdfRK(recv.rootKey, sendDH);
    Object.assign(st, {
      pn: st.ns, ns: 0, nr: 0, remote, self,
      recvCK: recv.chainKey, hasRecv: true,
      rootKey: send.rootKey, sendCK: send.chainKey, hasSend: true,
    });
  }
}

// skipKeys derives the receiving chain's message keys up to (not
// including) message until into found, refusing to derive more than MaxSkip.
// st is the tentative state and changes.
async function skipKeys(st, until, found) {
  if (!st.hasRecv) return;
  if (st.nr + MaxSkip < until) {
    throw new SecretError('secret_too_many_skipped', `decrypt: message ${until}, next expected ${st.nr}`);
  }
  while (st.nr < until) {
    const { messageKey, chainKey } = await kdfCK(st.recvCK);
    found.push({ dh: st.remote, n: st.nr, mk: messageKey });
    st.recvCK = chainKey;
    st.nr++;
  }
}

// Safety numbers -----------------------------------------------------------

// safetyNumber is the 60-digit number two people compare to check that
// their devices hold each other's real identity keys, as 12 groups of 5
// digits. Both sides get the same string. The IDs are the accounts' stable
// identifiers; the identities are {dh, sign} public keys.
export async function safetyNumber(ourId, ourIdentity, theirId, theirIdentity) {
  const halves = await Promise.all([fingerprintDigits(ourId, ourIdentity), fingerprintDigits(theirId, theirIdentity)]);
  halves.sort();
  return halves.join('').match(/\d{5}/g).join(' ');
}

// fingerprintDigits is one identity's 30 digits: SHA-512 of the version,
// keys and ID, iterated 5200 times over the keys, read as six 40-bit
// big-endian numbers mod 100000.
async function fingerprintDigits(id, k) {
  const idBytes = utf8.encode(id);
  const keys = concatBytes(k.dh, k.sign);
  let h = new Uint8Array(await subtle.digest('SHA-512', concatBytes(Uint8Array.of(0, 1), keys, u32(idBytes.length), idBytes)));
  const buf = new Uint8Array(64 + keys.length);
  buf.set(keys, 64);
  for (let i = 0; i < safetyIterations; i++) {
    buf.set(h, 0);
    h = new Uint8Array(await subtle.digest('SHA-512', buf));
  }
  let digits = '';
  for (let i = 0; i < 30; i += 5) {
    const v = h[i] * 2 ** 32 + readU32(h, i + 1); // 40 bits: exact in a double
    digits += String(v % 100000).padStart(5, '0');
  }
  return digits;
}
