// Replays the Go test vectors of the secret-chat protocol, of franking and
// of the payload and envelope encodings (secret/protocol, secret/franking,
// secret/device) against the web client's WebCrypto modules, and tests what
// the vectors do not show: replays, tampering, the skipped-key bounds,
// state encoding, bundle checks, payloads and envelopes.
//
//   node web/jstest/secret_vectors.mjs                 # needs Node 20.19 or later
//   node web/jstest/secret_vectors.mjs --go-states F   # also compare session states with Go's (go test ./web -run SecretJS does this)
//
// It exits non-zero if any test fails.
import { readFileSync } from 'node:fs';
import {
  HeaderSize, MaxSkip, MaxSkippedKeys, Session, decodeBundle, decodeInitialHeader, decodeMessage,
  encodeBundle, encodeInitialHeader, generateIdentityKey, generateOneTimePreKey, generateSignedPreKey,
  initiate, makeBundle, primitives, publicIdentity, respond, safetyNumber, verifyBundle,
  encodePublicIdentity, decodePublicIdentity, isSupported,
} from '../static/secret-protocol.js';
import { commit, encodeReport, newFrankingKey, openCommitment, parseTag } from '../static/secret-franking.js';
import { MaxTextLength, decodeEnvelope, decodePayload, encodeEnvelope, encodePayload } from '../static/secret-payload.js';
import { check, concat, detRand, eq, eqHex, fixedRand, hex, rejects, runTests, unhex } from './lib.mjs';

const repo = new URL('../../', import.meta.url);
const vectorsText = readFileSync(new URL('secret/protocol/testdata/vectors.json', repo), 'utf8');
const frankingText = readFileSync(new URL('secret/franking/testdata/vectors.json', repo), 'utf8');
const V = JSON.parse(vectorsText);
const F = JSON.parse(frankingText);
const P = JSON.parse(readFileSync(new URL('secret/device/testdata/payload-vectors.json', repo), 'utf8'));
const goStatesPath = process.argv.includes('--go-states') ? process.argv[process.argv.indexOf('--go-states') + 1] : '';

// Offsets in an encoded session state (docs/secret-chats.md).
const stateRK = 129;
const stateCKs = 226;
const stateCount = 302;
const utf8 = new TextEncoder();
const text = (b) => new TextDecoder().decode(b);

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

// Parties -------------------------------------------------------------------

// device rebuilds a party's long-term keys from the vector file's private
// keys, drawing them through the generate functions so that the order in
// which they read randomness is checked as well.
async function device(v) {
  const identity = await generateIdentityKey(fixedRand(unhex(v.identity_x25519.private), unhex(v.identity_ed25519.private)));
  if (!v.signed_prekey) return { identity };
  const spk = await generateSignedPreKey(v.signed_prekey_id, identity, fixedRand(unhex(v.signed_prekey.private)));
  const opk = await generateOneTimePreKey(v.one_time_prekey_id, fixedRand(unhex(v.one_time_prekey.private)));
  return { identity, spk, opk };
}

const alice = await device(V.alice);
const bob = await device(V.bob);

// pair runs the agreement on the vector keys and Alice's first message, as
// Go's tests do, so both sessions can talk both ways.
async function pair(withOPK = true) {
  const opk = withOPK ? bob.opk : null;
  const { session: a, initialHeader } = await initiate(alice.identity, makeBundle(bob.identity, bob.spk, opk), detRand('alice session'));
  const b = await respond(bob.identity, bob.spk, opk, initialHeader, detRand('bob session'));
  eq(await hear(b, await say(a, 'hello')), 'hello', 'first message');
  return [a, b];
}

const ad = utf8.encode('ad');
const say = (s, msg) => s.encrypt(utf8.encode(msg), ad);
const hear = async (s, m) => text(await s.decrypt(m, ad));

// unchanged runs fn, which must fail with reason, and checks that the
// session's state is byte for byte what it was.
async function failsUnchanged(s, fn, reason, what) {
  const before = hex(s.serialize());
  const err = await rejects(fn, reason, what);
  eqHex(s.serialize(), before, `${what}: state after the failure`);
  return err;
}

// Protocol vectors ------------------------------------------------------------

test('vectors: identity, signed prekey and one-time prekey', async () => {
  for (const [name, d, v] of [['alice', alice, V.alice], ['bob', bob, V.bob]]) {
    eqHex(d.identity.dh.publicKey, v.identity_x25519.public, `${name} identity X25519 public`);
    eqHex(d.identity.sign.publicKey, v.identity_ed25519.public, `${name} identity Ed25519 public`);
  }
  eqHex(bob.spk.publicKey, V.bob.signed_prekey.public, 'signed prekey public');
  eqHex(primitives.signedPreKeyMessage(bob.identity.dh.publicKey, bob.spk.id, bob.spk.publicKey), V.bob.signed_prekey_signed_message, 'signed message');
  eqHex(bob.spk.signature, V.bob.signed_prekey_signature, 'signature (Ed25519 is deterministic)');
  eqHex(bob.opk.publicKey, V.bob.one_time_prekey.public, 'one-time prekey public');
  const pub = publicIdentity(bob.identity);
  const enc = encodePublicIdentity(pub);
  eqHex(enc, V.bob.identity_x25519.public + V.bob.identity_ed25519.public, 'encoded public identity');
  eqHex(encodePublicIdentity(decodePublicIdentity(enc)), enc, 'public identity round trip');
});

test('vectors: KDFs', async () => {
  const k = V.kdf;
  const { messageKey, chainKey } = await primitives.kdfCK(unhex(k.chain_key));
  eqHex(chainKey, k.next_chain_key, 'KDF_CK next chain key');
  eqHex(messageKey, k.message_key, 'KDF_CK message key');
  const { aesKey, nonce } = await primitives.messageKeys(messageKey);
  eqHex(aesKey, k.aes_key, 'message AES key');
  eqHex(nonce, k.nonce, 'message nonce');
  const rk = await primitives.kdfRK(unhex(k.root_key), unhex(k.dh_out));
  eqHex(rk.rootKey, k.kdf_rk_root_key, 'KDF_RK root key');
  eqHex(rk.chainKey, k.kdf_rk_chain_key, 'KDF_RK chain key');
  // dh_out is DH(Alice's signed prekey, Bob's). The file does not list
  // Alice's signed prekey: the Go test draws it as the third key of
  // detRand("alice"), after her identity, whose keys confirm the stream.
  const r = detRand('alice');
  eqHex(r(32), V.alice.identity_x25519.private, 'detRand("alice") starts with her identity key');
  r(32);
  eqHex(await primitives.dh(r(32), bob.spk.publicKey), k.dh_out, 'dh_out');
});

for (const [i, x] of V.x3dh.entries()) {
  test(`vectors: X3DH ${x.name}`, async () => {
    const withOPK = Boolean(x.dh4);
    const bundle = makeBundle(bob.identity, bob.spk, withOPK ? bob.opk : null);
    eqHex(encodeBundle(bundle), x.bundle, 'bundle encoding');
    const decoded = decodeBundle(unhex(x.bundle));
    eqHex(encodeBundle(decoded), x.bundle, 'bundle decode and re-encode');
    await verifyBundle(decoded);

    const { session, initialHeader } = await initiate(alice.identity, decoded, detRand(V.alice.session_rand_label));
    const stream = detRand(V.alice.session_rand_label);
    const ek = stream(32);
    eqHex(ek, x.ephemeral_private, 'ephemeral key: the first 32 bytes');
    eqHex(stream(32), x.initiator_first_ratchet_private, 'first ratchet key: the next 32');
    eqHex(encodeInitialHeader(initialHeader), x.initial_header, 'initial header');
    eqHex(encodeInitialHeader(decodeInitialHeader(unhex(x.initial_header))), x.initial_header, 'initial header round trip');

    const dhs = [
      await primitives.dh(alice.identity.dh.privateKey, bob.spk.publicKey),
      await primitives.dh(ek, bob.identity.dh.publicKey),
      await primitives.dh(ek, bob.spk.publicKey),
    ];
    dhs.forEach((d, j) => eqHex(d, x[`dh${j + 1}`], `DH${j + 1}`));
    if (withOPK) {
      dhs.push(await primitives.dh(ek, bob.opk.publicKey));
      eqHex(dhs[3], x.dh4, 'DH4');
    }
    eqHex(await primitives.x3dhSecret(dhs), x.sk, 'SK');
    eqHex(session.associatedData(), x.ad, 'AD');
    const st = session.serialize();
    eqHex(st.subarray(stateRK, stateRK + 32), x.initiator_root_key_after_first_step, 'root key after the first step');
    eqHex(st.subarray(stateCKs, stateCKs + 32), x.initiator_first_sending_chain_key, 'first sending chain key');
    eqHex(st.subarray(161, 193), x.initiator_first_ratchet_private, 'state holds the ratchet private key');

    // Bob reaches the same secret: his root key is SK until the first message.
    const b = await respond(bob.identity, bob.spk, withOPK ? bob.opk : null, decodeInitialHeader(unhex(x.initial_header)), detRand('unused'));
    eqHex(b.serialize().subarray(stateRK, stateRK + 32), x.sk, 'responder root key = SK');
    eqHex(b.associatedData(), x.ad, 'responder AD');
    check(i >= 0, 'index');
  });
}

test('vectors: conversation, persisting the sessions after every step', async () => {
  const x = V.x3dh.find((v) => v.dh4);
  const rand = { alice: detRand(V.alice.session_rand_label), bob: detRand(V.bob.session_rand_label) };
  const { session: a, initialHeader } = await initiate(alice.identity, decodeBundle(unhex(x.bundle)), rand.alice);
  const b = await respond(bob.identity, bob.spk, bob.opk, initialHeader, rand.bob);
  const parties = { alice: a, bob: b };
  const goStates = goStatesPath ? JSON.parse(readFileSync(goStatesPath, 'utf8')) : null;
  if (goStates) {
    eqHex(a.serialize(), goStates.initial.alice, 'Alice\'s state after initiate, against Go\'s');
    eqHex(b.serialize(), goStates.initial.bob, 'Bob\'s state after respond, against Go\'s');
  }
  for (const [i, step] of V.conversation.entries()) {
    const what = `step ${i} (${step.party} ${step.action}s ${step.label})`;
    const s = parties[step.party];
    if (step.action === 'encrypt') {
      const ck = s.serialize().subarray(stateCKs, stateCKs + 32);
      const { messageKey } = await primitives.kdfCK(ck);
      eqHex(messageKey, step.message_key, `${what}: message key`);
      const { aesKey, nonce } = await primitives.messageKeys(messageKey);
      eqHex(aesKey, step.aes_key, `${what}: AES key`);
      eqHex(nonce, step.nonce, `${what}: nonce`);
      eqHex(await s.encrypt(unhex(step.plaintext), unhex(step.ad)), step.message, `${what}: message`);
    } else {
      eqHex(await s.decrypt(unhex(step.message), unhex(step.ad)), step.plaintext, `${what}: plaintext`);
    }
    const state = s.serialize();
    if (goStates) eqHex(state, goStates.steps[i].state, `${what}: state against Go's`);
    // Continue with the session restored from its bytes: the rest of the
    // script then proves the encoding keeps everything.
    const restored = await Session.deserialize(state, rand[step.party]);
    eqHex(restored.serialize(), state, `${what}: state round trip`);
    parties[step.party] = restored;
  }
  if (!goStates) console.log('     (no --go-states: states checked for round trips only; go test ./web -run SecretJS compares them with Go)');
});

test('vectors: safety number', async () => {
  const s = V.safety_number;
  const a = publicIdentity(alice.identity);
  const b = publicIdentity(bob.identity);
  eq(await safetyNumber(s.alice_id, a, s.bob_id, b), s.number, 'Alice\'s view');
  eq(await safetyNumber(s.bob_id, b, s.alice_id, a), s.number, 'Bob\'s view');
  check((await safetyNumber(s.alice_id, a, 'mallory@kurir.example', b)) !== s.number, 'another ID gives another number');
});

// Protocol behaviour ----------------------------------------------------------

test('both ways, with and without a one-time prekey', async () => {
  for (const withOPK of [true, false]) {
    const [a, b] = await pair(withOPK);
    for (let i = 0; i < 3; i++) {
      eq(await hear(a, await say(b, `b${i}`)), `b${i}`, 'Bob to Alice');
      eq(await hear(b, await say(a, `a${i}`)), `a${i}`, 'Alice to Bob');
    }
  }
});

test('the responder cannot send first', async () => {
  const { initialHeader } = await initiate(alice.identity, makeBundle(bob.identity, bob.spk, bob.opk), detRand('a'));
  const b = await respond(bob.identity, bob.spk, bob.opk, initialHeader, detRand('b'));
  await failsUnchanged(b, () => say(b, 'too early'), 'secret_no_sending_chain', 'encrypt before the first message');
});

test('replays are rejected and change nothing', async () => {
  const [a, b] = await pair();
  const ms = [await say(a, 'm0'), await say(a, 'm1'), await say(a, 'm2')];
  await hear(b, ms[0]);
  await hear(b, ms[2]); // stores m1's key
  eq(await hear(b, ms[1]), 'm1', 'm1 from its skipped key');
  for (const [i, m] of ms.entries()) await failsUnchanged(b, () => hear(b, m), 'secret_replay', `replay of m${i}`);
});

test('tampered messages are rejected and change nothing', async () => {
  const cases = [
    ['ciphertext bit', (m) => { m[HeaderSize] ^= 1; }],
    ['tag bit', (m) => { m[m.length - 1] ^= 0x80; }],
    ['header N', (m) => { m[40] ^= 1; }],
    ['header PN', (m) => { m[36] ^= 1; }],
    ['header DH', (m) => { m[6] ^= 1; }],
  ];
  for (const [name, tamper] of cases) {
    const [a, b] = await pair();
    await hear(a, await say(b, 'so Alice has a receiving chain'));
    const m = await say(a, 'secret');
    tamper(m);
    await failsUnchanged(b, () => b.decrypt(m, ad), null, name);
  }
  const [a, b] = await pair();
  const m = await say(a, 'secret');
  await failsUnchanged(b, () => b.decrypt(m, utf8.encode('other')), 'secret_decrypt_failed', 'other associated data');
  await failsUnchanged(b, () => b.decrypt(m.subarray(0, m.length - 1), ad), 'secret_decrypt_failed', 'truncated');
  await failsUnchanged(b, () => b.decrypt(m.subarray(0, HeaderSize + 15), ad), 'secret_malformed', 'shorter than a tag');
  const v2 = m.slice();
  v2[0] = 2;
  await failsUnchanged(b, () => b.decrypt(v2, ad), 'secret_malformed', 'header version 2');
  eq(await hear(b, m), 'secret', 'the untampered message still decrypts');
});

test('a message to another device does not decrypt', async () => {
  const [a] = await pair();
  const [, b2] = await pair(false);
  const m = await say(a, 'x');
  await failsUnchanged(b2, () => hear(b2, m), 'secret_decrypt_failed', 'wrong device');
});

test('skipped keys: MaxSkip bound, exact edge and forged PN', async () => {
  let [a, b] = await pair();
  for (let i = 0; i <= MaxSkip; i++) await say(a, 'lost');
  const far = await say(a, 'far');
  await failsUnchanged(b, () => hear(b, far), 'secret_too_many_skipped', 'MaxSkip+1 ahead');

  [a, b] = await pair();
  for (let i = 0; i < MaxSkip; i++) await say(a, 'lost');
  eq(await hear(b, await say(a, 'edge')), 'edge', 'exactly MaxSkip ahead');
  eq(new DataView(b.serialize().buffer).getUint32(stateCount), MaxSkip, 'skipped keys stored');

  [a, b] = await pair();
  await hear(a, await say(b, 'first reply'));
  await hear(b, await say(a, 'so Bob ratchets'));
  const m = await say(b, 'new chain');
  new DataView(m.buffer).setUint32(33, 1 << 30); // PN
  await failsUnchanged(a, () => hear(a, m), 'secret_too_many_skipped', 'forged PN');
});

test('skipped keys: the store keeps the newest MaxSkippedKeys', async () => {
  const [a, b] = await pair();
  let firstLost = null;
  for (let chain = 0; chain < 3; chain++) {
    for (let i = 0; i < MaxSkip - 1; i++) {
      const m = await say(a, 'lost');
      firstLost ??= m;
    }
    await hear(b, await say(a, 'arrives'));
    await hear(a, await say(b, 'reply'));
  }
  const st = b.serialize();
  eq(new DataView(st.buffer).getUint32(stateCount), MaxSkippedKeys, 'skipped keys kept');
  // Chain 0 stored messages 1..999 ('hello' was 0), chains 1 and 2 their
  // 0..998: 2997 keys, so the 997 oldest went and chain 0's 998 is first.
  eq(new DataView(st.buffer).getUint32(306 + 32), 998, 'N of the oldest kept key');
  await failsUnchanged(b, () => hear(b, firstLost), null, 'an evicted message');
  const restored = await Session.deserialize(st);
  eqHex(restored.serialize(), st, 'a full store round-trips');
});

test('overlapping calls on one session run in order', async () => {
  const [a, b] = await pair();
  const ms = await Promise.all([say(a, 'x0'), say(a, 'x1'), say(a, 'x2')]);
  eq(ms.map((m) => new DataView(m.buffer).getUint32(37)).join(','), '1,2,3', 'message numbers');
  const got = await Promise.all([hear(b, ms[2]), hear(b, ms[0]), hear(b, ms[1])]);
  eq(got.join(','), 'x2,x0,x1', 'plaintexts');
});

test('session state: round trip and refusals', async () => {
  const [a, b] = await pair();
  const pending = await say(a, 'pending');
  await say(a, 'lost');
  await hear(b, await say(a, 'arrives'));
  const sb = b.serialize();
  eq(new DataView(sb.buffer).getUint32(stateCount), 2, 'two skipped keys');
  const b2 = await Session.deserialize(sb);
  eqHex(b2.serialize(), sb, 'round trip');
  eq(await hear(b2, pending), 'pending', 'a skipped key survives');
  const a2 = await Session.deserialize(a.serialize());
  eq(await hear(a2, await say(b2, 'after restore')), 'after restore', 'restored sessions talk');

  const fresh = (await respond(bob.identity, bob.spk, null,
    (await initiate(alice.identity, makeBundle(bob.identity, bob.spk), detRand('x'))).initialHeader, detRand('y'))).serialize();
  eq(fresh[225], 0, 'a responder before the first message has no chains');
  const bad = [
    ['empty', new Uint8Array(0)],
    ['short', sb.subarray(0, 305)],
    ['version 2', Uint8Array.from(sb, (x, i) => (i === 0 ? 2 : x))],
    ['unknown flag', Uint8Array.from(sb, (x, i) => (i === 225 ? x | 4 : x))],
    ['sending chain key without its flag', Uint8Array.from(fresh, (x, i) => (i === stateCKs ? 1 : x))],
    ['receiving chain key without its flag', Uint8Array.from(fresh, (x, i) => (i === 258 ? 1 : x))],
    ['trailing byte', concat(sb, [0])],
    ['count too high for the bytes', Uint8Array.from(sb, (x, i) => (i === 305 ? 3 : x))],
    ['count over MaxSkippedKeys', (() => { const s = concat(fresh, new Uint8Array(2001 * 68)); new DataView(s.buffer).setUint32(stateCount, 2001); return s; })()],
  ];
  for (const [name, data] of bad) await rejects(() => Session.deserialize(data), 'secret_malformed', name);
});

// Bundles and X3DH ------------------------------------------------------------

test('bundle verification', async () => {
  const mallory = await generateIdentityKey(detRand('mallory'));
  const mspk = await generateSignedPreKey(1, mallory, detRand('mallory spk'));
  const lowOrder = new Uint8Array(32);
  lowOrder[0] = 1; // u = 1 has order 4
  const cases = [
    ['signature bit', (b) => { b.signature[3] ^= 1; }, 'secret_bad_signature'],
    ['prekey swapped', (b) => { b.signedPreKey.key = mspk.publicKey; }, 'secret_bad_signature'],
    ['prekey ID changed', (b) => { b.signedPreKey.id++; }, 'secret_bad_signature'],
    ['identity DH swapped', (b) => { b.identity.dh = mallory.dh.publicKey; }, 'secret_bad_signature'],
    ['signing key swapped', (b) => { b.identity.sign = mallory.sign.publicKey; }, 'secret_bad_signature'],
    ['signing key not a point', (b) => { b.identity.sign = new Uint8Array(32).fill(0xff); }, 'secret_bad_signature'],
    ['all-zero one-time prekey', (b) => { b.oneTimePreKey.key = new Uint8Array(32); }, 'secret_bad_key'],
    ['low-order one-time prekey', (b) => { b.oneTimePreKey.key = lowOrder; }, 'secret_bad_key'],
  ];
  await verifyBundle(makeBundle(bob.identity, bob.spk, bob.opk));
  for (const [name, mutate, reason] of cases) {
    const b = decodeBundle(encodeBundle(makeBundle(bob.identity, bob.spk, bob.opk)));
    mutate(b);
    await rejects(() => verifyBundle(b), reason, `verify: ${name}`);
    await rejects(() => initiate(alice.identity, b, detRand('x')), reason, `initiate: ${name}`);
  }
  // A signature over a low-order prekey is valid: only the point check catches it.
  for (const [name, id] of [['signed prekey', 9], ['identity', 10]]) {
    const ident = name === 'identity' ? { ...bob.identity, dh: { privateKey: null, publicKey: lowOrder } } : bob.identity;
    const key = name === 'identity' ? bob.spk.publicKey : lowOrder;
    const signer = await crypto.subtle.importKey('pkcs8', concat(unhex('302e020100300506032b657004220420'), bob.identity.sign.privateKey), 'Ed25519', false, ['sign']);
    const signature = new Uint8Array(await crypto.subtle.sign('Ed25519', signer, primitives.signedPreKeyMessage(ident.dh.publicKey, id, key)));
    const b = { identity: publicIdentity(ident), signedPreKey: { id, key }, signature, oneTimePreKey: null };
    await rejects(() => verifyBundle(b), 'secret_bad_key', `low-order ${name} with a valid signature`);
  }
});

test('low-order points: the fixed list agrees with X25519 by a zero scalar', async () => {
  // Go computes X25519(zero scalar, u), all zeros exactly for low-order u.
  // WebCrypto does the same computation, and refuses an all-zero result.
  const zero = new Uint8Array(32);
  const probe = async (u) => {
    try {
      await primitives.dh(zero, u);
      return false;
    } catch (err) {
      if (err.reason !== 'secret_bad_key') throw err;
      return true;
    }
  };
  const p = (k) => { // p + k, little-endian
    const b = new Uint8Array(32).fill(0xff);
    b[31] = 0x7f;
    b[0] = 0xed + k;
    return b;
  };
  const candidates = [];
  for (let k = -1; k <= 18; k++) candidates.push(p(k)); // p-1 and the non-canonical p .. p+18
  for (let v = 0; v < 20; v++) candidates.push(Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? v : 0)));
  candidates.push(unhex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'));
  candidates.push(unhex('5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157'));
  const r = detRand('points');
  for (let i = 0; i < 100; i++) candidates.push(r(32));
  let low = 0;
  for (const u of candidates) {
    for (const top of [0, 0x80]) {
      const v = u.slice();
      v[31] = (v[31] & 0x7f) | top;
      const want = await probe(v);
      eq(primitives.isLowOrder(v), want, `low order of ${hex(v)}`);
      if (want) low++;
    }
  }
  eq(low, 14, 'low-order encodings found (7 values, top bit clear or set)');
});

test('bundle and initial header encodings refuse other shapes', async () => {
  const withOPK = encodeBundle(makeBundle(bob.identity, bob.spk, bob.opk));
  const without = encodeBundle(makeBundle(bob.identity, bob.spk));
  eq(withOPK.length, 202, 'bundle with a one-time prekey');
  eq(without.length, 166, 'bundle without');
  eq(decodeBundle(without).oneTimePreKey, null, 'no one-time prekey');
  const bad = [
    ['165 bytes', without.subarray(0, 165)],
    ['203 bytes', concat(withOPK, [0])],
    ['version 2', Uint8Array.from(without, (x, i) => (i === 0 ? 2 : x))],
    ['flag 1 in 166 bytes', Uint8Array.from(without, (x, i) => (i === 165 ? 1 : x))],
    ['flag 0 in 202 bytes', Uint8Array.from(withOPK, (x, i) => (i === 165 ? 0 : x))],
    ['flag 2', Uint8Array.from(without, (x, i) => (i === 165 ? 2 : x))],
  ];
  for (const [name, data] of bad) await rejects(() => decodeBundle(data), 'secret_malformed', `bundle ${name}`);

  const { initialHeader } = await initiate(alice.identity, makeBundle(bob.identity, bob.spk, bob.opk), detRand('x'));
  const h = encodeInitialHeader(initialHeader);
  eq(h.length, 106, 'initial header with a one-time prekey');
  const h0 = encodeInitialHeader({ ...initialHeader, oneTimePreKeyId: null });
  eq(h0.length, 102, 'initial header without');
  const badHeaders = [
    ['101 bytes', h0.subarray(0, 101)],
    ['107 bytes', concat(h, [0])],
    ['version 0', Uint8Array.from(h, (x, i) => (i === 0 ? 0 : x))],
    ['flag 0 in 106 bytes', Uint8Array.from(h, (x, i) => (i === 101 ? 0 : x))],
    ['flag 1 in 102 bytes', Uint8Array.from(h0, (x, i) => (i === 101 ? 1 : x))],
  ];
  for (const [name, data] of badHeaders) await rejects(() => decodeInitialHeader(data), 'secret_malformed', `initial header ${name}`);
  await rejects(() => decodeMessage(new Uint8Array(HeaderSize + 15)), 'secret_malformed', 'message shorter than a tag');
});

test('respond refuses prekeys the header does not name', async () => {
  const { initialHeader: withOPK } = await initiate(alice.identity, makeBundle(bob.identity, bob.spk, bob.opk), detRand('x'));
  const { initialHeader: without } = await initiate(alice.identity, makeBundle(bob.identity, bob.spk), detRand('x'));
  const otherSPK = await generateSignedPreKey(2, bob.identity, detRand('spk2'));
  const otherOPK = await generateOneTimePreKey(101, detRand('opk2'));
  const cases = [
    ['rotated signed prekey', otherSPK, bob.opk, withOPK],
    ['one-time prekey not held', bob.spk, null, withOPK],
    ['header names none', bob.spk, bob.opk, without],
    ['another one-time prekey', bob.spk, otherOPK, withOPK],
  ];
  for (const [name, spk, opk, h] of cases) {
    await rejects(() => respond(bob.identity, spk, opk, h, detRand('y')), 'secret_prekey_mismatch', name);
  }
});

test('fresh random keys agree (default randomness)', async () => {
  check(await isSupported(), 'isSupported in Node');
  const ia = await generateIdentityKey();
  const ib = await generateIdentityKey();
  const spk = await generateSignedPreKey(5, ib);
  const opk = await generateOneTimePreKey(6);
  const { session: a, initialHeader } = await initiate(ia, decodeBundle(encodeBundle(makeBundle(ib, spk, opk))));
  const b = await respond(ib, spk, opk, initialHeader);
  eq(await hear(b, await say(a, 'hi')), 'hi', 'first');
  eq(await hear(a, await say(b, 'hey')), 'hey', 'reply');
  eq(await safetyNumber('a', publicIdentity(ia), 'b', publicIdentity(ib)), await safetyNumber('b', publicIdentity(ib), 'a', publicIdentity(ia)), 'safety numbers agree');
});

// Franking --------------------------------------------------------------------

// goReports returns the "report" objects of the franking vectors as Go wrote
// them, compacted: MarshalIndent re-indents a json.RawMessage but keeps its
// strings byte for byte, so removing whitespace outside strings restores
// exactly what Report.MarshalJSON returned.
function goReports(src) {
  let compact = '';
  let inString = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (inString) {
      compact += c;
      if (c === '\\') compact += src[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      compact += c;
    } else if (!/\s/.test(c)) {
      compact += c;
    }
  }
  const out = [];
  for (let at = compact.indexOf('"report":{'); at >= 0; at = compact.indexOf('"report":{', at + 1)) {
    let depth = 0;
    let j = at + '"report":'.length;
    const start = j;
    for (let str = false; ; j++) {
      const c = compact[j];
      if (str) {
        if (c === '\\') j++;
        else if (c === '"') str = false;
      } else if (c === '"') str = true;
      else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) break;
    }
    out.push(compact.slice(start, j + 1));
  }
  return out;
}

test('franking vectors: commitments, tags and reports', async () => {
  const reports = goReports(frankingText);
  eq(reports.length, F.length, 'reports found in the file');
  for (const [i, v] of F.entries()) {
    const key = unhex(v.franking_key_hex);
    const pt = unhex(v.plaintext_hex);
    const c = await commit(key, pt);
    eqHex(c, v.commitment_hex, `${v.name}: commitment`);
    await openCommitment(key, pt, c);
    await rejects(() => openCommitment(key, concat(pt, [0]), c), 'franking_bad_commitment', `${v.name}: other plaintext`);
    await rejects(() => openCommitment(newFrankingKey(), pt, c), 'franking_bad_commitment', `${v.name}: other key`);
    await rejects(() => openCommitment(key, pt, c.subarray(0, 31)), 'franking_bad_commitment', `${v.name}: short commitment`);
    const tag = unhex(v.tag_hex);
    eq(parseTag(tag).keyId, v.server_key_id, `${v.name}: tag key ID`);
    await rejects(() => parseTag(tag.subarray(0, 32)), 'franking_bad_tag', `${v.name}: short tag`);
    const fields = {
      plaintext: pt, frankingKey: key, commitment: c, tag, sender: v.sender, senderDevice: v.sender_device,
      recipient: v.recipient, recipientDevice: v.recipient_device, atMicros: v.at_us, envelope: v.envelope,
    };
    eq(encodeReport(fields), reports[i], `${v.name}: report JSON`);
    const big = { ...fields, sender: BigInt(v.sender), atMicros: BigInt(v.at_us) };
    eq(encodeReport(big), reports[i], `${v.name}: report JSON from BigInts`);
  }
  const zeros = {
    plaintext: new Uint8Array(0), frankingKey: new Uint8Array(32), commitment: new Uint8Array(32), tag: new Uint8Array(33),
    sender: 1, senderDevice: 1, recipient: 1, recipientDevice: 1, atMicros: 0, envelope: '',
  };
  encodeReport(zeros);
  await rejects(() => encodeReport({ ...zeros, sender: 2 ** 60 }), null, 'an ID past 2^53 as a Number');
  await rejects(() => encodeReport({ ...zeros, atMicros: 2n ** 63n }), null, 'a BigInt past int64');
  await rejects(() => encodeReport({ ...zeros, tag: new Uint8Array(32) }), null, 'a short tag');
});

// Payloads and envelopes ------------------------------------------------------

const fk = Uint8Array.from({ length: 32 }, (_, i) => i);

test('payload vectors (secret/device): payloads, commitments and envelope bodies', async () => {
  for (const v of P.payloads) {
    const p = decodePayload(unhex(v.payload));
    eq(p.text, v.text, `${v.name}: text`);
    eq([...p.text].length, v.characters, `${v.name}: characters`);
    eqHex(p.frankingKey, v.franking_key, `${v.name}: franking key`);
    eq(p.expireSeconds, v.expire_seconds, `${v.name}: timer`);
    eq(p.sentAt, v.sent_at_ms, `${v.name}: time`);
    eq(v.kind, 1, `${v.name}: kind`);
    eqHex(encodePayload(p), v.payload, `${v.name}: re-encoded`);
    eqHex(await commit(p.frankingKey, utf8.encode(p.text)), v.commitment, `${v.name}: commitment`);
  }
  for (const v of P.invalid_payloads) await rejects(() => decodePayload(unhex(v.bytes)), 'secret_bad_payload', `invalid payload: ${v.name}`);
  for (const v of P.envelope_bodies) {
    const d = decodeEnvelope(unhex(v.body));
    eqHex(d.message, v.message, `${v.name}: message`);
    eqHex(d.initialHeader ? encodeInitialHeader(d.initialHeader) : '', v.initial_header || '', `${v.name}: initial header`);
    eqHex(encodeEnvelope(d), v.body, `${v.name}: re-encoded`);
  }
  for (const v of P.invalid_envelope_bodies) await rejects(() => decodeEnvelope(unhex(v.bytes)), 'secret_malformed', `invalid body: ${v.name}`);
  check(P.payloads.length >= 6 && P.invalid_payloads.length >= 12 && P.invalid_envelope_bodies.length >= 9, 'vectors read');
});

test('payload: encoding and round trip', async () => {
  const p = { frankingKey: fk, expireSeconds: 3600, sentAt: 1772366400123, text: 'héllo 👋' };
  const enc = encodePayload(p);
  eqHex(enc, '0101' + hex(fk) + '00000e10' + '0000019ca9450a7b' + hex(utf8.encode(p.text)), 'encoding');
  const dec = decodePayload(enc);
  const want = { kind: 'text', frankingKey: hex(fk), expireSeconds: 3600, sentAt: 1772366400123, text: p.text };
  eq(JSON.stringify({ ...dec, frankingKey: hex(dec.frankingKey) }), JSON.stringify(want), 'decoded');
  for (const t of ['', '\ufeffBOM stays', 'a\u0000b', '👋'.repeat(MaxTextLength), 'x'.repeat(MaxTextLength)]) {
    eq(decodePayload(encodePayload({ frankingKey: fk, sentAt: 0, text: t })).text, t, `text of ${t.length} UTF-16 units`);
  }
  eq(decodePayload(encodePayload({ frankingKey: fk, sentAt: Number.MAX_SAFE_INTEGER, expireSeconds: 0xffffffff, text: '' })).sentAt, Number.MAX_SAFE_INTEGER, 'largest sentAt');
});

test('payload: bad payloads are refused', async () => {
  const good = encodePayload({ frankingKey: fk, sentAt: 1, text: 'ok' });
  const head = good.subarray(0, 46);
  const bad = [
    ['45 bytes', head.subarray(0, 45)],
    ['version 2', Uint8Array.from(good, (x, i) => (i === 0 ? 2 : x))],
    ['kind 0', Uint8Array.from(good, (x, i) => (i === 1 ? 0 : x))],
    ['kind 2', Uint8Array.from(good, (x, i) => (i === 1 ? 2 : x))],
    ['byte ff', concat(head, [0xff])],
    ['overlong /', concat(head, [0xc0, 0xaf])],
    ['surrogate', concat(head, [0xed, 0xa0, 0x80])],
    ['truncated emoji', concat(head, [0xf0, 0x9f, 0x91])],
    ['over MaxTextLength', concat(head, utf8.encode('x'.repeat(MaxTextLength + 1)))],
  ];
  const late = good.slice();
  new DataView(late.buffer).setBigUint64(38, 2n ** 63n);
  bad.push(['time of 2^63 ms', late]);
  for (const [name, data] of bad) await rejects(() => decodePayload(data), 'secret_bad_payload', name);
  new DataView(late.buffer).setBigUint64(38, 2n ** 63n - 1n);
  decodePayload(late); // the largest time Go accepts
  await rejects(() => encodePayload({ frankingKey: fk, sentAt: 1, text: 'y'.repeat(MaxTextLength + 1) }), 'secret_text_too_long', 'encode: text too long');
  for (const [name, p] of [
    ['short key', { frankingKey: fk.subarray(1), sentAt: 1, text: '' }],
    ['lone surrogate', { frankingKey: fk, sentAt: 1, text: '\ud800' }],
    ['negative timer', { frankingKey: fk, expireSeconds: -1, sentAt: 1, text: '' }],
    ['fractional time', { frankingKey: fk, sentAt: 1.5, text: '' }],
  ]) await rejects(() => encodePayload(p), 'secret_bad_payload', `encode: ${name}`);
});

test('envelopes: prekey and session bodies, and refusals', async () => {
  const [a, b] = await pair();
  const m = await say(a, 'x');
  const { initialHeader } = await initiate(alice.identity, makeBundle(bob.identity, bob.spk, bob.opk), detRand('x'));
  for (const h of [initialHeader, { ...initialHeader, oneTimePreKeyId: null }]) {
    const body = encodeEnvelope({ initialHeader: h, message: m });
    eq(body[0], 1, 'prekey envelope type');
    eqHex(body, concat([1], encodeInitialHeader(h), m), 'prekey envelope layout');
    const d = decodeEnvelope(body);
    eqHex(encodeInitialHeader(d.initialHeader), encodeInitialHeader(h), 'initial header back');
    eqHex(d.message, m, 'message back');
  }
  const body = encodeEnvelope({ message: m });
  eqHex(body, concat([2], m), 'session envelope layout');
  const d = decodeEnvelope(body);
  eq(d.initialHeader, null, 'no initial header');
  eq(await hear(b, d.message), 'x', 'the message inside decrypts');

  const pre = encodeEnvelope({ initialHeader, message: m });
  const bad = [
    ['empty', new Uint8Array(0)],
    ['type 0', concat([0], m)],
    ['type 3', concat([3], m)],
    ['initial header flag 2', Uint8Array.from(pre, (x, i) => (i === 102 ? 2 : x))],
    ['initial header version 2', Uint8Array.from(pre, (x, i) => (i === 1 ? 2 : x))],
    ['truncated initial header', pre.subarray(0, 100)],
    ['no message after the initial header', pre.subarray(0, 107)],
    ['message shorter than a tag', concat([2], m.subarray(0, HeaderSize + 15))],
    ['message header version 2', concat([2, 2], m.subarray(1))],
  ];
  for (const [name, data] of bad) await rejects(() => decodeEnvelope(data), 'secret_malformed', name);
  await rejects(() => encodeEnvelope({ message: m.subarray(0, 10) }), 'secret_malformed', 'encode: not a message');
});

test('a text message end to end: payload, commitment as associated data, envelope', async () => {
  const [a, b] = await pair();
  const key = newFrankingKey();
  const msg = 'meet at 6 <b>&</b>';
  const commitment = await commit(key, utf8.encode(msg));
  const payload = encodePayload({ frankingKey: key, expireSeconds: 30, sentAt: Date.now(), text: msg });
  const body = encodeEnvelope({ message: await a.encrypt(payload, commitment) });

  const env = decodeEnvelope(body);
  const other = await commit(key, utf8.encode('something else'));
  await failsUnchanged(b, () => b.decrypt(env.message, other), 'secret_decrypt_failed', 'under another commitment');
  const got = decodePayload(await b.decrypt(env.message, commitment));
  await openCommitment(got.frankingKey, utf8.encode(got.text), commitment);
  eq(got.text, msg, 'text');
  eq(got.expireSeconds, 30, 'timer');
  // A sender that commits to other text than it sends is caught.
  const liar = encodePayload({ frankingKey: key, sentAt: 1, text: 'not what was committed' });
  const p = decodePayload(await b.decrypt(await a.encrypt(liar, commitment), commitment));
  await rejects(() => openCommitment(p.frankingKey, utf8.encode(p.text), commitment), 'franking_bad_commitment', 'lying sender');
});

await runTests(tests);
