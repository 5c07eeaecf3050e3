// Benchmarks of the web client's secret-chat modules under Node's WebCrypto
// (the same BoringSSL/OpenSSL-backed primitives browsers call; browsers add
// their own per-call overhead):
//
//   node web/jstest/secret_bench.mjs [rounds]
//
// Each line is the median of the rounds (default 5) of one measurement.
import {
  Session, generateIdentityKey, generateOneTimePreKey, generateSignedPreKey, initiate, makeBundle,
  publicIdentity, respond, safetyNumber,
} from '../static/secret-protocol.js';
import { commit, openCommitment, newFrankingKey } from '../static/secret-franking.js';
import { decodeEnvelope, decodePayload, encodeEnvelope, encodePayload } from '../static/secret-payload.js';

const rounds = Number(process.argv[2] || 5);
const utf8 = new TextEncoder();

async function median(n, fn) {
  const per = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    await fn(n);
    per.push((performance.now() - start) / n);
  }
  per.sort((a, b) => a - b);
  return per[Math.floor(per.length / 2)];
}

function report(name, ms, bytes = 0) {
  const us = ms * 1000;
  const rate = bytes ? `  ${((bytes / (ms / 1000)) / 1e6).toFixed(1)} MB/s` : '';
  console.log(`${name.padEnd(66)} ${us.toFixed(0).padStart(8)} µs/op ${(1000 / ms).toFixed(0).padStart(7)} op/s${rate}`);
}

const alice = await generateIdentityKey();
const bob = await generateIdentityKey();
const spk = await generateSignedPreKey(1, bob);
const opk = await generateOneTimePreKey(2);
const bundle = makeBundle(bob, spk, opk);

async function pair() {
  const { session: a, initialHeader } = await initiate(alice, bundle);
  const b = await respond(bob, spk, opk, initialHeader);
  await b.decrypt(await a.encrypt(utf8.encode('hello')));
  return [a, b];
}

console.log(`node ${process.version}, ${rounds} rounds, median per operation`);
report('keys: identity + signed prekey + one-time prekey', await median(50, async (n) => {
  for (let i = 0; i < n; i++) {
    const id = await generateIdentityKey();
    await generateSignedPreKey(1, id);
    await generateOneTimePreKey(1);
  }
}));
report('X3DH: initiate (verify bundle, 4 DH, first ratchet step)', await median(50, async (n) => {
  for (let i = 0; i < n; i++) await initiate(alice, bundle);
}));
const { initialHeader } = await initiate(alice, bundle);
report('X3DH: respond (4 DH)', await median(50, async (n) => {
  for (let i = 0; i < n; i++) await respond(bob, spk, opk, initialHeader);
}));
report('X3DH: session set-up, both sides + first message', await median(50, async (n) => {
  for (let i = 0; i < n; i++) await pair();
}));

for (const size of [100, 4096, 65536]) {
  const [a, b] = await pair();
  const pt = new Uint8Array(size);
  report(`message: encrypt + decrypt, ${size} B, same chain`, await median(500, async (n) => {
    for (let i = 0; i < n; i++) await b.decrypt(await a.encrypt(pt));
  }), size);
}
{
  const [a, b] = await pair();
  const pt = new Uint8Array(100);
  report('message: encrypt + decrypt, 100 B, ratchet step each (ping-pong)', await median(200, async (n) => {
    for (let i = 0; i < n; i++) {
      const [from, to] = i % 2 ? [b, a] : [a, b];
      await to.decrypt(await from.encrypt(pt));
    }
  }));
}
{
  const [a, b] = await pair();
  report('text message: payload + commit + encrypt + envelope, and back', await median(300, async (n) => {
    for (let i = 0; i < n; i++) {
      const frankingKey = newFrankingKey();
      const text = 'a secret-chat message of ordinary length, about a hundred bytes long, give or take';
      const c = await commit(frankingKey, utf8.encode(text));
      const body = encodeEnvelope({ message: await a.encrypt(encodePayload({ frankingKey, sentAt: Date.now(), text }), c) });
      const p = decodePayload(await b.decrypt(decodeEnvelope(body).message, c));
      await openCommitment(p.frankingKey, utf8.encode(p.text), c);
    }
  }));
}
{
  const [a, b] = await pair();
  const msgs = [];
  for (let i = 0; i < 1000; i++) msgs.push(await a.encrypt(new Uint8Array(10)));
  // Deliver the last first: 999 keys derived and stored, then used one by one.
  const start = performance.now();
  await b.decrypt(msgs[999]);
  report('out of order: decrypt 999 ahead (derive + store 999 keys)', performance.now() - start);
  const state = b.serialize();
  report(`state: serialize, ${state.length} B (999 skipped keys)`, await median(200, async (n) => {
    for (let i = 0; i < n; i++) b.serialize();
  }));
  report(`state: deserialize, ${state.length} B`, await median(200, async (n) => {
    for (let i = 0; i < n; i++) await Session.deserialize(state);
  }));
  let next = 0; // each round takes the next 100 of the 999 skipped messages
  report('out of order: decrypt from a skipped key (store of 999)', await median(100, async (n) => {
    for (let i = 0; i < n; i++) await b.decrypt(msgs[next++]);
  }));
}
report('safety number (2 × 5201 SHA-512)', await median(3, async (n) => {
  for (let i = 0; i < n; i++) await safetyNumber('alice@kurir.example', publicIdentity(alice), 'bob@kurir.example', publicIdentity(bob));
}));
