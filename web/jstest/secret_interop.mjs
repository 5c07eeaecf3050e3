// The JavaScript side of the Go <-> JavaScript secret-chat test
// (web/secret_js_test.go, TestSecretJSInterop). Go writes a JSON file, this
// script acts on it with the web client's modules and writes its answer;
// byte strings are hex. One command per run:
//
//   node web/jstest/secret_interop.mjs respond  IN OUT   # be Bob: answer Go's prekey envelopes, then reply
//   node web/jstest/secret_interop.mjs initiate IN OUT   # be Alice: start a session with Go's bundle and send
//   node web/jstest/secret_interop.mjs receive  IN OUT   # restore a session from its state and read envelopes
//   node web/jstest/secret_interop.mjs reports  IN OUT   # encode franking reports
//
// Messages are texts: {text, expire_seconds, sent_at}. Envelopes are
// {body, commitment}: the relayed body and the franking commitment beside it.
import { readFileSync, writeFileSync } from 'node:fs';
import {
  Session, decodeBundle, encodePublicIdentity, generateIdentityKey, generateOneTimePreKey, generateSignedPreKey,
  initiate, publicIdentity, respond,
} from '../static/secret-protocol.js';
import { commit, encodeReport, newFrankingKey, openCommitment } from '../static/secret-franking.js';
import { decodeEnvelope, decodePayload, encodeEnvelope, encodePayload } from '../static/secret-payload.js';
import { fixedRand, hex, unhex } from './lib.mjs';

const utf8 = new TextEncoder();

// send seals one text: payload with a fresh franking key, commitment as
// the ratchet's extra associated data, envelope around the message.
async function send(session, initialHeader, m) {
  const frankingKey = newFrankingKey();
  const commitment = await commit(frankingKey, utf8.encode(m.text));
  const payload = encodePayload({ frankingKey, expireSeconds: m.expire_seconds, sentAt: m.sent_at, text: m.text });
  const body = encodeEnvelope({ initialHeader, message: await session.encrypt(payload, commitment) });
  return { body: hex(body), commitment: hex(commitment) };
}

// receive opens one envelope with session and checks its commitment, as
// the app must before it shows anything.
async function receive(session, message, commitmentHex) {
  const commitment = unhex(commitmentHex);
  const p = decodePayload(await session.decrypt(message, commitment));
  await openCommitment(p.frankingKey, utf8.encode(p.text), commitment);
  return { text: p.text, expire_seconds: p.expireSeconds, sent_at: p.sentAt };
}

const commands = {
  async respond(input) {
    const k = input.bob;
    const identity = await generateIdentityKey(fixedRand(unhex(k.identity_x25519), unhex(k.identity_ed25519)));
    const spk = await generateSignedPreKey(k.signed_prekey_id, identity, fixedRand(unhex(k.signed_prekey)));
    const opk = await generateOneTimePreKey(k.one_time_prekey_id, fixedRand(unhex(k.one_time_prekey)));
    let session = null;
    const received = [];
    for (const e of input.envelopes) {
      const { initialHeader, message } = decodeEnvelope(unhex(e.body));
      if (!session) {
        if (!initialHeader) throw new Error('the first envelope is not a prekey envelope');
        const named = initialHeader.oneTimePreKeyId === opk.id ? opk : null;
        session = await respond(identity, spk, named, initialHeader);
      }
      received.push(await receive(session, message, e.commitment));
    }
    const replies = [];
    for (const m of input.replies) replies.push(await send(session, null, m));
    return { received, replies, state: hex(session.serialize()) };
  },

  async initiate(input) {
    const identity = await generateIdentityKey();
    const { session, initialHeader } = await initiate(identity, decodeBundle(unhex(input.bundle)));
    const envelopes = [];
    for (const m of input.messages) envelopes.push(await send(session, initialHeader, m));
    return { identity: hex(encodePublicIdentity(publicIdentity(identity))), envelopes, state: hex(session.serialize()) };
  },

  async receive(input) {
    const session = await Session.deserialize(unhex(input.state));
    const received = [];
    for (const e of input.envelopes) {
      const { initialHeader, message } = decodeEnvelope(unhex(e.body));
      if (initialHeader) throw new Error('a prekey envelope to an established session');
      received.push(await receive(session, message, e.commitment));
    }
    return { received, state: hex(session.serialize()) };
  },

  async reports(input) {
    return {
      json: input.reports.map((r) => encodeReport({
        plaintext: unhex(r.plaintext), frankingKey: unhex(r.franking_key), commitment: unhex(r.commitment), tag: unhex(r.tag),
        // int64 values travel as strings: JSON numbers lose digits past 2^53.
        sender: BigInt(r.sender), senderDevice: BigInt(r.sender_device), recipient: BigInt(r.recipient),
        recipientDevice: BigInt(r.recipient_device), atMicros: BigInt(r.at_us), envelope: r.envelope,
      })),
    };
  },
};

const [command, inPath, outPath] = process.argv.slice(2);
if (!commands[command] || !inPath || !outPath) {
  console.error('usage: node web/jstest/secret_interop.mjs respond|initiate|receive|reports IN OUT');
  process.exit(2);
}
const out = await commands[command](JSON.parse(readFileSync(inPath, 'utf8')));
writeFileSync(outPath, JSON.stringify(out));
