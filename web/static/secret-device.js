// This browser's secret-chat device (docs/secret-chats.md): its identity,
// signed and one-time prekeys, its Double Ratchet sessions with each peer
// device, and the secret chats' messages. A device is a logged-in session;
// everything lives in an IndexedDB database of its own, named for the
// account and session, which logging out deletes. Private keys never leave
// the browser.
//
// The semantics are the Go SDK's (kurir/secret/device and client
// SecretChats), which this follows step for step: prekey envelopes until a
// reply decrypts, one-time prekeys deleted once used, the signed prekey
// rotated weekly with the old ones kept for 30 days, one-time prekeys
// replenished when the server says so, processed envelope IDs remembered
// so that a replay is never shown twice, and franking commitments checked
// before a message is kept. Two rules keep the ratchet safe:
//
//   - Every change to the keys and sessions runs under a Web Lock named for
//     the database, so two tabs of one device never advance a session from
//     the same state (which would reuse a message key). The state is read
//     afresh from IndexedDB each time the lock is taken.
//   - The state is saved before anything it produced leaves the browser (an
//     envelope is sent only once the ratchet step that made it is saved),
//     and received messages are saved, in the same transaction as the
//     ratchet state, before their envelopes are acknowledged. So nothing
//     acknowledged is lost and nothing is shown twice.
import { api, newKey } from './api.js';
import {
  SecretError, Session, decodeBundle, decodePublicIdentity, encodePublicIdentity, equalBytes, generateIdentityKey,
  generateOneTimePreKey, generateSignedPreKey, initiate, isSupported, publicIdentity, respond, safetyNumber,
} from './secret-protocol.js';
import { commit, encodeReport, newFrankingKey, openCommitment, parseTag, CommitmentSize } from './secret-franking.js';
import { decodeEnvelope, decodePayload, encodeEnvelope, encodePayload, MaxTextLength } from './secret-payload.js';

export { MaxTextLength };

// The self-destruct timers a person can choose, in seconds (0: none).
export const timers = [0, 5, 60, 3600, 86400, 7 * 86400];

// Lifetimes and bounds, as in kurir/secret/device and client.
const day = 24 * 3600 * 1000;
const rotation = 7 * day; // a signed prekey stays current this long
const grace = 30 * day; // a replaced one still starts sessions this long (the relay's TTL)
const maxPrevious = 8;
const maxOneTime = 1000;
const maxSessions = 4; // per peer device: the current one and three that may still receive
const maxSeen = 4096;
const maxUsed = 20000;
const maxEnvelopeID = 256;
const preKeyBatch = 100;
const maxServerPreKeys = 500;
const sendBatch = 20;
const fetchBatch = 100;
const maxRounds = 20; // fetches in one turn of the lock; more wait for the next turn
const maxShown = 1000; // messages of one chat the view loads
const dbPrefix = 'kurir-secret-';

const utf8 = new TextEncoder();

// supported says whether this browser can hold secret chats: WebCrypto with
// X25519 and Ed25519, Web Locks and IndexedDB, in a secure context.
export async function supported() {
  return globalThis.isSecureContext === true && 'locks' in navigator && 'indexedDB' in globalThis && await isSupported();
}

// Bytes --------------------------------------------------------------------

function b64(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

function unb64(s) {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function isID(n) {
  return Number.isSafeInteger(n) && n > 0;
}

// wellFormed checks the fields of an envelope the server relays before any
// is used: they become keys in the database and times on the screen, where
// a string for a user ID or a time no Date can hold would go wrong for good
// (a stored message the chat list cannot draw). Any safe integer of
// microseconds is a time a Date can hold.
function wellFormed(e) {
  return e !== null && typeof e === 'object' &&
    typeof e.id === 'string' && e.id.length > 0 && e.id.length <= maxEnvelopeID &&
    isID(e.sender) && isID(e.sender_device) && Number.isSafeInteger(e.at_us) && e.at_us >= 0 &&
    typeof e.body === 'string' && typeof e.commitment === 'string' && typeof e.tag === 'string';
}

// IndexedDB ------------------------------------------------------------------

function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function finished(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error || new DOMException('transaction aborted', 'AbortError'));
  });
}

function dbName(self) {
  return `${dbPrefix}${self.user}-${self.device}`;
}

// The database: "device" holds the keys ("keys"), the processed envelope
// IDs ("seen") and the ephemeral keys of sessions others started ("used");
// "peers" the sessions with each peer device; "chats" and "messages" what
// the person sees.
function openDB(name) {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(name, 1);
    r.onupgradeneeded = () => {
      const db = r.result;
      db.createObjectStore('device');
      db.createObjectStore('peers', { keyPath: 'id' });
      db.createObjectStore('chats', { keyPath: 'peer' });
      const m = db.createObjectStore('messages', { keyPath: 'id' });
      m.createIndex('peer', ['peer', 'at']);
      m.createIndex('expireAt', 'expireAt');
      m.createIndex('state', 'state');
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function deleteDB(name) {
  return new Promise((resolve) => {
    const r = indexedDB.deleteDatabase(name);
    r.onsuccess = r.onerror = () => resolve();
  });
}

// forgetDevice deletes the database of a session that has ended, with its
// private keys and messages. Other tabs holding it open close it when asked.
export function forgetDevice(name) {
  return deleteDB(name);
}

// forgetDevices deletes every secret-chat database in this browser: the
// session has ended, and a browser holds one session at a time (the tabs
// share its token). It also finds a database that no tab has open, such as
// that of an account restricted since it last used secret chats.
export async function forgetDevices() {
  if (!globalThis.indexedDB || !indexedDB.databases) return;
  for (const d of await indexedDB.databases()) {
    if (d.name && d.name.startsWith(dbPrefix)) await deleteDB(d.name);
  }
}

// Chats and messages -----------------------------------------------------------

function newChat(peer) {
  return { peer, timer: 0, unread: 0, last: null, activity: 0, changed: false, name: null };
}

function summary(m) {
  return m ? { text: m.text, at: m.at, own: m.own } : null;
}

// updateChat changes a chat's record inside tx.
async function updateChat(tx, peer, fn) {
  const s = tx.objectStore('chats');
  const c = (await request(s.get(peer))) || newChat(peer);
  fn(c);
  s.put(c);
  return c;
}

// refreshLast sets a chat's last message from what is stored, after a
// message left it.
async function refreshLast(tx, peer) {
  const idx = tx.objectStore('messages').index('peer');
  const cur = await request(idx.openCursor(IDBKeyRange.bound([peer, -Infinity], [peer, Infinity]), 'prev'));
  const last = summary(cur && cur.value);
  const s = tx.objectStore('chats');
  const c = await request(s.get(peer));
  if (c) {
    c.last = last;
    s.put(c);
  }
}

// The keys and sessions --------------------------------------------------------

function promote(p, ss) {
  p.sessions = [ss, ...p.sessions.filter((x) => x !== ss)];
}

// bestError picks, of the sessions' reasons to refuse a message, the one
// that says most: a replay over a failed authentication.
function bestError(errs) {
  return errs.find((e) => e.reason === 'secret_replay') || errs.find((e) => e.reason !== 'secret_decrypt_failed') || errs[0];
}

// State is the device's keys and the sessions loaded so far, read from the
// database under the lock and saved by SecretDevice.#save.
class State {
  constructor(db, keys, seen, used) {
    this.db = db;
    this.keys = keys;
    this.seen = seen; // envelope IDs, oldest first
    this.seenSet = new Set(seen);
    this.used = used; // [{key, spk}], oldest first
    this.usedSet = new Set(used.map((u) => hex(u.key)));
    this.peers = new Map(); // "user:device" -> peer or null
    this.dirty = new Set(); // peers to save
    // Users with a device whose key is new to this one: another identity
    // for a device, or a device besides those it already had sessions
    // with. Their chats say the safety number changed, even when the
    // message that brought the key is dropped.
    this.changedUsers = new Set();
  }

  // create makes a new device's identity and first signed prekey.
  static async create(db, self, now) {
    const identity = await generateIdentityKey();
    const spk = await generateSignedPreKey(1, identity);
    return new State(db, { self, identity, spk: { ...spk, created: now }, previous: [], nextSPK: 2, nextOPK: 1, opks: [] }, [], []);
  }

  identityBytes() {
    return encodePublicIdentity(publicIdentity(this.keys.identity));
  }

  async newOneTimePreKeys(n) {
    const k = this.keys;
    const have = new Set(k.opks.map((o) => o.id));
    const out = [];
    for (let i = 0; i < n; i++) {
      let id = k.nextOPK;
      while (id === 0 || have.has(id)) id = (id + 1) >>> 0; // 0 is never used; the IDs wrap after 2^32
      const key = await generateOneTimePreKey(id);
      have.add(id);
      k.opks.push(key);
      k.nextOPK = (id + 1) >>> 0;
      out.push(key);
    }
    const over = k.opks.length - maxOneTime;
    if (over > 0) {
      // The oldest in the order they were made.
      const age = (o) => (o.id - k.nextOPK) >>> 0;
      k.opks.sort((a, b) => age(a) - age(b));
      k.opks.splice(0, over);
    }
    k.opks.sort((a, b) => a.id - b.id);
    return out;
  }

  rotationDue(now) {
    return now - this.keys.spk.created >= rotation;
  }

  async rotate(now) {
    const k = this.keys;
    const spk = await generateSignedPreKey(k.nextSPK, k.identity);
    k.nextSPK = ((k.nextSPK + 1) >>> 0) || 1;
    k.previous.unshift({ ...k.spk, retired: now });
    while (k.previous.length > maxPrevious) this.forgetEphemerals(k.previous.pop().id);
    k.spk = { ...spk, created: now };
  }

  // expire drops the replaced signed prekeys whose grace has passed.
  expire(now) {
    this.keys.previous = this.keys.previous.filter((p) => {
      if (now - p.retired < grace) return true;
      this.forgetEphemerals(p.id);
      return false;
    });
  }

  forgetEphemerals(spk) {
    this.used = this.used.filter((u) => {
      if (u.spk !== spk) return true;
      this.usedSet.delete(hex(u.key));
      return false;
    });
  }

  signedPreKey(id) {
    if (this.keys.spk.id === id) return this.keys.spk;
    return this.keys.previous.find((p) => p.id === id) || null;
  }

  // peer loads the sessions with a peer device: {id, user, device,
  // identity (64 bytes), sessions: [{session, initial, theirs, origin}]},
  // the current one first; null if there are none.
  async peer(user, device) {
    const id = `${user}:${device}`;
    if (this.peers.has(id)) return this.peers.get(id);
    const rec = await request(this.db.transaction('peers').objectStore('peers').get(id));
    let p = null;
    if (rec) {
      const sessions = await Promise.all(rec.sessions.map(async (s) => ({
        session: await Session.deserialize(s.state), initial: s.initial, theirs: s.theirs, origin: s.origin,
      })));
      p = { id, user, device, identity: rec.identity, sessions };
    }
    this.peers.set(id, p);
    return p;
  }

  // heldDevices returns the identities (64 bytes) of the user's devices
  // this device has saved sessions with, by device ID.
  async heldDevices(user) {
    const range = IDBKeyRange.bound(`${user}:`, `${user}:\uffff`);
    const recs = await request(this.db.transaction('peers').objectStore('peers').getAll(range));
    return new Map(recs.filter((r) => r.user === user).map((r) => [r.device, r.identity]));
  }

  // install makes ss the current session with the peer device, whose
  // identity is identity; it reports whether that replaced another identity
  // (the safety number changed). The peer must have been loaded.
  install(user, device, identity, ss) {
    const id = `${user}:${device}`;
    let p = this.peers.get(id);
    let changed = false;
    if (p && !equalBytes(p.identity, identity)) {
      p = null;
      changed = true;
    }
    if (!p) {
      p = { id, user, device, identity, sessions: [] };
      this.peers.set(id, p);
    }
    p.sessions = [ss, ...p.sessions].slice(0, maxSessions);
    this.dirty.add(id);
    if (changed) this.changedUsers.add(user);
    return changed;
  }

  record(id) {
    const p = this.peers.get(id);
    return {
      id, user: p.user, device: p.device, identity: p.identity,
      sessions: p.sessions.map((s) => ({ state: s.session.serialize(), initial: s.initial, theirs: s.theirs, origin: s.origin })),
    };
  }

  // startSession starts a session with a peer device from a bundle the
  // server handed out (initiate verifies it); it reports whether the
  // safety number changed: the device's identity did, or the device is new
  // beside others of the user this device had sessions with (held, as
  // heldDevices gave them before this operation).
  async startSession(user, device, bundle, held) {
    const p = await this.peer(user, device);
    const { session, initialHeader } = await initiate(this.keys.identity, bundle);
    const changed = this.install(user, device, encodePublicIdentity(bundle.identity), { session, initial: initialHeader, theirs: false, origin: null });
    if (changed || p || !held.size) return changed;
    this.changedUsers.add(user); // a device more: it can read what is sent
    return true;
  }

  // encrypt seals a text for a peer device with the current session: a
  // payload with a fresh franking key, the commitment to the text as the
  // ratchet's extra associated data, a prekey envelope until they replied.
  async encrypt(user, device, text, expireSeconds, sentAt) {
    const p = await this.peer(user, device);
    const ss = p.sessions[0];
    const frankingKey = newFrankingKey();
    const payload = encodePayload({ frankingKey, expireSeconds, sentAt, text });
    const commitment = await commit(frankingKey, utf8.encode(text));
    const message = await ss.session.encrypt(payload, commitment);
    this.dirty.add(p.id);
    return { body: encodeEnvelope({ initialHeader: ss.initial, message }), commitment };
  }

  // decrypt opens an envelope for this device, as kurir/secret/device's
  // State.Decrypt does. A message whose payload or franking commitment is
  // bad throws after the session has advanced past it (it is dropped); any
  // other failure leaves the state as it was. A processed envelope throws
  // secret_duplicate.
  async decrypt(env) {
    if (!env.id || env.id.length > maxEnvelopeID) throw new SecretError('secret_malformed', 'envelope ID');
    if (this.seenSet.has(env.id)) throw new SecretError('secret_duplicate', `envelope ${env.id}`);
    if (env.commitment.length !== CommitmentSize) throw new SecretError('secret_malformed', 'commitment');
    parseTag(env.tag);
    const body = decodeEnvelope(env.body);
    const ad = env.commitment;
    const user = env.sender;
    const device = env.sender_device;
    const p = await this.peer(user, device);
    const got = { newSession: false, identityChanged: false };
    let pt = null;
    const h = body.initialHeader;
    if (h) {
      const hid = encodePublicIdentity(h.identity);
      const ss = p && equalBytes(p.identity, hid) ? p.sessions.find((s) => s.theirs && equalBytes(s.origin, h.ephemeral)) : null;
      if (ss) {
        pt = await ss.session.decrypt(body.message, ad);
        promote(p, ss);
      } else {
        if (this.usedSet.has(hex(h.ephemeral))) throw new SecretError('secret_replay', 'its session was started before');
        const spk = this.signedPreKey(h.signedPreKeyId);
        if (!spk) throw new SecretError('secret_prekey_mismatch', `signed prekey ${h.signedPreKeyId} is not held`);
        let opk = null;
        if (h.oneTimePreKeyId != null) {
          opk = this.keys.opks.find((k) => k.id === h.oneTimePreKeyId);
          if (!opk) throw new SecretError('secret_prekey_mismatch', `one-time prekey ${h.oneTimePreKeyId} is not held`);
        }
        const session = await respond(this.keys.identity, spk, opk, h);
        pt = await session.decrypt(body.message, ad);
        // A device of a user this device already had sessions with, but not
        // this one: the safety number changed as much as for a new key.
        const fresh = !p && (await this.heldDevices(user)).size > 0;
        // The message authenticates: the session is real.
        if (opk) this.keys.opks = this.keys.opks.filter((k) => k !== opk);
        this.useEphemeral(h.ephemeral, h.signedPreKeyId);
        got.newSession = true;
        got.identityChanged = this.install(user, device, hid, { session, initial: null, theirs: true, origin: h.ephemeral }) || fresh;
        if (fresh) this.changedUsers.add(user);
      }
    } else {
      if (!p) throw new SecretError('secret_no_session', `from user ${user} device ${device}`);
      const errs = [];
      for (const ss of p.sessions) {
        try {
          pt = await ss.session.decrypt(body.message, ad);
        } catch (e) {
          errs.push(e);
          continue;
        }
        ss.initial = null; // they replied on it: no more prekey envelopes
        promote(p, ss);
        break;
      }
      if (!pt) throw bestError(errs);
    }
    this.dirty.add(`${user}:${device}`);
    this.remember(env.id);
    const payload = decodePayload(pt);
    await openCommitment(payload.frankingKey, utf8.encode(payload.text), ad);
    return { ...got, payload };
  }

  useEphemeral(key, spk) {
    this.used.push({ key, spk });
    this.usedSet.add(hex(key));
    while (this.used.length > maxUsed) this.usedSet.delete(hex(this.used.shift().key));
  }

  remember(id) {
    this.seen.push(id);
    this.seenSet.add(id);
    while (this.seen.length > maxSeen) this.seenSet.delete(this.seen.shift());
  }
}

// The device -------------------------------------------------------------------

// SecretDevice is this browser's secret-chat device for the logged-in
// session. Make one with SecretDevice.open; close it when the session ends.
// Listeners given to onChange hear which chats changed, in this tab or
// another tab of the same device.
export class SecretDevice {
  #db;
  #channel;
  #listeners = new Set();
  #receiving = null;
  #again = false;
  #timer = 0;
  #closed = false;

  constructor(db, self) {
    this.#db = db;
    this.self = self;
    this.name = dbName(self);
    db.onversionchange = () => this.close(); // being deleted: the session ended
    this.#channel = 'BroadcastChannel' in globalThis ? new BroadcastChannel(this.name) : null;
    if (this.#channel) this.#channel.onmessage = (e) => this.#tell(e.data && e.data.peers, false);
  }

  // open opens the device of the logged-in session (me is GET /me), and
  // deletes what earlier sessions in this browser left behind.
  static async open(me) {
    const { sessions } = await api('GET', '/sessions');
    const current = sessions.find((s) => s.current);
    if (!current) throw new Error('secret chats: the server lists no current session');
    const self = { user: me.id, device: current.id };
    if (indexedDB.databases) {
      for (const d of await indexedDB.databases()) {
        if (d.name && d.name.startsWith(dbPrefix) && d.name !== dbName(self)) await deleteDB(d.name);
      }
    }
    const d = new SecretDevice(await openDB(dbName(self)), self);
    // What self-destructed while no tab was open goes before anything is
    // read: not even the chat list shows it again.
    try {
      await d.#sweep();
    } catch (err) {
      d.close();
      throw err;
    }
    return d;
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    if (this.#channel) this.#channel.close();
    this.#db.close();
    this.#listeners.clear();
  }

  onChange(fn) {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  // #tell tells the listeners that these chats (peer user IDs; all if
  // null) changed, and the other tabs too unless it came from one.
  #tell(peers, broadcast = true) {
    if (this.#closed) return;
    if (broadcast && this.#channel) this.#channel.postMessage({ peers });
    this.#schedule(); // a timer may have started, or a message gone
    for (const fn of this.#listeners) fn(peers);
  }

  #exclusive(fn) {
    return navigator.locks.request(`${this.name}:state`, fn);
  }

  async #write(stores, fn) {
    const tx = this.#db.transaction(stores, 'readwrite');
    const done = finished(tx);
    let result;
    try {
      result = await fn(tx);
    } catch (e) {
      try { tx.abort(); } catch { /* already finished */ }
      await done.catch(() => {});
      throw e;
    }
    await done;
    return result;
  }

  async #read(store, fn) {
    return fn(this.#db.transaction(store).objectStore(store));
  }

  async #load() {
    const s = this.#db.transaction('device').objectStore('device');
    const [keys, seen, used] = await Promise.all([request(s.get('keys')), request(s.get('seen')), request(s.get('used'))]);
    if (!keys) return null;
    if (keys.self.user !== this.self.user || keys.self.device !== this.self.device) {
      throw new Error('secret chats: the stored keys belong to another session');
    }
    return new State(this.#db, keys, seen || [], used || []);
  }

  // #save writes the keys, the sessions that changed and, in the same
  // transaction, then(tx) (messages and chats).
  async #save(st, then = async () => {}) {
    const peers = [...st.dirty].map((id) => st.record(id));
    await this.#write(['device', 'peers', 'messages', 'chats'], async (tx) => {
      const d = tx.objectStore('device');
      d.put(st.keys, 'keys');
      d.put(st.seen, 'seen');
      d.put(st.used, 'used');
      for (const p of peers) tx.objectStore('peers').put(p);
      await then(tx);
    });
    st.dirty.clear();
  }

  // hasKeys says whether this device has made its keys (used secret chats).
  async hasKeys() {
    const keys = await this.#read('device', (s) => request(s.getKey('keys')));
    return keys !== undefined;
  }

  // register makes sure the server has this device's keys: it makes them
  // the first time, publishes them when the server has none or others,
  // rotates the signed prekey weekly and uploads one-time prekeys when the
  // server runs low. It resolves to the server's key status.
  register() {
    return this.#exclusive(async () => (await this.#register(await this.#load())).status);
  }

  // #register is register with the lock held; st is null for a new device.
  // It resolves to {st, status}.
  async #register(st) {
    const now = Date.now();
    if (!st) {
      st = await State.create(this.#db, this.self, now);
      await this.#save(st);
    }
    const status = await api('GET', '/secret/keys');
    st.expire(now);
    const rotate = st.rotationDue(now);
    if (rotate) await st.rotate(now);
    const ours = b64(st.identityBytes());
    const lost = !status.registered || status.identity !== ours;
    let want = 0;
    if (lost) want = preKeyBatch;
    else if (status.replenish) want = Math.max(0, Math.min(preKeyBatch, maxServerPreKeys - status.one_time_prekeys));
    const spk = st.keys.spk;
    const wire = (k) => ({ id: k.id, key: b64(k.publicKey) });
    if (!lost && !rotate && status.signed_prekey_id === spk.id) {
      // The private halves are saved before their public halves leave.
      const opks = await st.newOneTimePreKeys(want);
      await this.#save(st);
      if (!opks.length) return { st, status };
      return { st, status: await api('POST', '/secret/keys/one-time', { one_time_prekeys: opks.map(wire) }) };
    }
    const opks = await st.newOneTimePreKeys(want);
    await this.#save(st);
    return {
      st,
      status: await api('PUT', '/secret/keys', {
        identity: ours,
        signed_prekey: { id: spk.id, key: b64(spk.publicKey), signature: b64(spk.signature) },
        one_time_prekeys: opks.map(wire),
      }),
    };
  }

  async #loadOrRegister() {
    const st = await this.#load();
    return st || (await this.#register(null)).st;
  }

  // devices lists the peer's devices that can receive secret messages, but
  // this one: [{device, identity (64 bytes)}].
  async devices(peer) {
    const { devices } = await api('GET', `/secret/users/${peer}/devices`);
    return devices
      .filter((d) => !(peer === this.self.user && d.device_id === this.self.device))
      .map((d) => ({ device: d.device_id, identity: unb64(d.identity) }));
  }

  // send sends text to every device of the peer that has set up secret
  // chats, with a self-destruct timer of expire seconds (0: none). It
  // starts sessions as needed, saves the state and the message, and then
  // delivers it; it resolves to the message as stored. It throws
  // secret_no_devices when the peer has no device to send to; a failure to
  // deliver leaves the message "failed", to retry.
  async send(peer, text, expire = 0) {
    const msg = await this.#exclusive(async () => {
      const st = await this.#loadOrRegister();
      const devices = await this.devices(peer);
      if (!devices.length) throw new SecretError('secret_no_devices', `user ${peer}`);
      const known = new Map(devices.map((d) => [d.device, d.identity]));
      const claim = [];
      for (const d of devices) {
        const p = await st.peer(peer, d.device);
        if (!p || !equalBytes(p.identity, d.identity)) claim.push(d.device);
      }
      let changed = false;
      if (claim.length) {
        const held = await st.heldDevices(peer);
        const { bundles } = await api('POST', `/secret/users/${peer}/bundles`, { devices: claim });
        for (const b of bundles) {
          const want = known.get(b.device_id);
          if (!want) continue;
          const bundle = decodeBundle(unb64(b.bundle));
          if (!equalBytes(encodePublicIdentity(bundle.identity), want)) {
            known.delete(b.device_id); // reinstalled meanwhile: the next send lists it afresh
            continue;
          }
          if (await st.startSession(peer, b.device_id, bundle, held)) changed = true;
        }
      }
      const sentAt = Date.now();
      const pending = [];
      for (const device of known.keys()) {
        if (!(await st.peer(peer, device))) continue; // no bundle came for it
        const sealed = await st.encrypt(peer, device, text, expire, sentAt);
        pending.push({ user_id: peer, device_id: device, body: b64(sealed.body), commitment: b64(sealed.commitment), client_id: newKey() });
      }
      if (!pending.length) throw new SecretError('secret_no_devices', `user ${peer}: no bundle for any device`);
      const m = { id: `out-${newKey()}`, peer, own: true, text, at: sentAt, sentAt, expire, state: 'sending', pending };
      await this.#save(st, async (tx) => {
        tx.objectStore('messages').put(m);
        await updateChat(tx, peer, (c) => {
          c.last = summary(m);
          c.activity = m.at;
          if (changed) c.changed = true;
        });
      });
      return m;
    });
    this.#tell([peer]);
    return this.deliver(msg.id);
  }

  // deliver sends a stored message's envelopes, with the client IDs they
  // were made with, so that a retry never delivers one twice.
  async deliver(id) {
    const m = await this.message(id);
    if (!m || !m.pending) return m;
    let update;
    try {
      for (let i = 0; i < m.pending.length; i += sendBatch) {
        await api('POST', '/secret/envelopes', { envelopes: m.pending.slice(i, i + sendBatch) });
      }
      const now = Date.now();
      update = (x) => {
        x.state = 'sent';
        x.devices = x.pending.length;
        delete x.pending;
        delete x.error;
        // The sender's copy self-destructs that long after it is sent.
        if (x.expire) x.expireAt = now + x.expire * 1000;
      };
    } catch (err) {
      update = (x) => {
        x.state = 'failed';
        // A network or server failure may pass; a refusal will not.
        x.transient = !err.status || err.status >= 500 || err.status === 429;
        x.error = err.detail || err.message || '';
      };
    }
    const out = await this.#write(['messages'], async (tx) => {
      const s = tx.objectStore('messages');
      const x = await request(s.get(id));
      if (!x || !x.pending) return x;
      update(x);
      s.put(x);
      return x;
    });
    this.#tell([m.peer]);
    return out;
  }

  // retry sends a failed message again: the same envelopes after a
  // passing failure, else the text anew (the server refused the envelopes,
  // for instance because a device of the peer is gone).
  async retry(id) {
    const m = await this.message(id);
    if (!m || m.state === 'sent') return m;
    if (m.transient || m.state === 'sending') return this.deliver(id);
    await this.remove(id);
    return this.send(m.peer, m.text, m.expire);
  }

  // resume delivers what was being sent when the page closed or the
  // connection failed.
  async resume() {
    const list = await this.#read('messages', (s) => Promise.all(['sending', 'failed'].map((st) => request(s.index('state').getAll(st)))));
    for (const m of list.flat()) {
      if (m.state === 'sending' || (m.state === 'failed' && m.transient)) await this.deliver(m.id);
    }
  }

  // receive fetches this device's envelopes, decrypts them, saves the
  // messages with the ratchet state, then acknowledges the envelopes.
  // Calls while one runs make it run once more when it ends.
  receive() {
    if (this.#receiving) {
      this.#again = true;
      return this.#receiving;
    }
    this.#receiving = (async () => {
      try {
        do {
          this.#again = false;
          await this.#exclusive(() => this.#receiveLocked());
        } while (this.#again && !this.#closed);
      } finally {
        this.#receiving = null;
      }
    })();
    return this.#receiving;
  }

  async #receiveLocked() {
    const st = await this.#load();
    if (!st) return; // no keys: nobody can have sent anything
    for (let round = 0; ; round++) {
      if (round === maxRounds) {
        // Let a send waiting for the lock go first; then fetch on.
        this.#again = true;
        return;
      }
      const answer = await api('GET', `/secret/envelopes?limit=${fetchBatch}`);
      const all = answer && Array.isArray(answer.envelopes) ? answer.envelopes : [];
      if (!all.length) return;
      // No more than asked for: a server cannot make one turn hold
      // (in memory, and in one transaction) more than a batch.
      const envelopes = all.slice(0, fetchBatch);
      const got = [];
      for (const e of envelopes) {
        try {
          if (!wellFormed(e)) throw new SecretError('secret_malformed', 'envelope fields');
          const env = { ...e, body: unb64(e.body), commitment: unb64(e.commitment), tag: unb64(e.tag) };
          const r = await st.decrypt(env);
          got.push({
            id: e.id, peer: e.sender, own: false, text: r.payload.text, at: Math.floor(e.at_us / 1000),
            sentAt: r.payload.sentAt, expire: r.payload.expireSeconds,
            proof: { frankingKey: r.payload.frankingKey, commitment: env.commitment, tag: env.tag, senderDevice: e.sender_device, atMicros: e.at_us },
            identityChanged: r.identityChanged,
          });
        } catch (err) {
          // Already processed (its acknowledgement was lost), or it cannot
          // be read: a replay, tampering, keys no longer held, or content
          // that does not open its franking commitment. Acknowledged all
          // the same, and never shown.
          if (err.reason !== 'secret_duplicate') console.warn('secret chats: dropped envelope', e.id, err.reason || err.message);
        }
      }
      const changed = [...st.changedUsers];
      st.changedUsers.clear();
      await this.#save(st, async (tx) => {
        const s = tx.objectStore('messages');
        for (const m of got) {
          // An envelope ID the server gave before, once it is no longer
          // remembered as seen: the stored message stays as it is.
          if ((await request(s.getKey(m.id))) !== undefined) continue;
          s.put(m);
          await updateChat(tx, m.peer, (c) => {
            c.last = summary(m);
            c.activity = Math.max(c.activity, m.at);
            c.unread++;
          });
        }
        // Also when the message that brought the new key was dropped: the
        // key is installed, and later messages on it will be shown.
        for (const peer of changed) await updateChat(tx, peer, (c) => { c.changed = true; });
      });
      const ids = envelopes.filter((e) => e && typeof e.id === 'string').map((e) => e.id);
      if (ids.length) await api('POST', '/secret/envelopes/ack', { ids });
      const told = new Set([...got.map((m) => m.peer), ...changed]);
      if (told.size) this.#tell([...told]);
      if (all.length < fetchBatch) return;
    }
  }

  // report reports a received message to the moderators with its franking
  // proof, which reveals its text and that its sender sent it.
  async report(id, reason, comment) {
    const m = await this.message(id);
    if (!m || m.own) throw new Error('secret chats: no such received message');
    const p = m.proof;
    const report = encodeReport({
      plaintext: utf8.encode(m.text), frankingKey: p.frankingKey, commitment: p.commitment, tag: p.tag,
      sender: m.peer, senderDevice: p.senderDevice, recipient: this.self.user, recipientDevice: this.self.device,
      atMicros: p.atMicros, envelope: m.id,
    });
    const filed = await api('POST', '/secret/reports', { report: JSON.parse(report), reason, comment });
    await this.#updateMessage(id, (x) => { x.reported = true; });
    return filed;
  }

  // safetyNumbers returns the safety numbers of this device with the
  // peer's devices, [{device, number, session, listed}]: one for each key
  // this device holds a session with, since those are the keys the
  // messages it shows were authenticated with, whatever the server lists
  // now; and one for each key the server lists that it has no session
  // with, which the next message will go to. session says this device has
  // a session with that key, listed that the server lists the key for that
  // device. The server's list alone would let it show the real key here
  // while messages come from another.
  async safetyNumbers(peer) {
    const st = await this.#exclusive(() => this.#loadOrRegister());
    const ours = publicIdentity(st.keys.identity);
    const number = (identity) => safetyNumber(String(this.self.user), ours, String(peer), decodePublicIdentity(identity));
    const listed = await this.devices(peer);
    const held = await st.heldDevices(peer);
    const out = [];
    for (const d of listed) {
      const h = held.get(d.device);
      out.push({ device: d.device, number: await number(d.identity), session: !!h && equalBytes(h, d.identity), listed: true });
    }
    for (const [device, identity] of held) {
      if (listed.some((d) => d.device === device && equalBytes(d.identity, identity))) continue;
      out.push({ device, number: await number(identity), session: true, listed: false });
    }
    out.sort((a, b) => a.device - b.device || b.listed - a.listed);
    await this.#updateChat(peer, (c) => { c.changed = false; });
    return out;
  }

  // Chats and messages -------------------------------------------------------

  async chats() {
    return this.#read('chats', (s) => request(s.getAll()));
  }

  async chat(peer) {
    return this.#read('chats', (s) => request(s.get(peer)));
  }

  // ensureChat makes the secret chat with peer if there is none; name is
  // {username, display_name} to remember, if known.
  async ensureChat(peer, name = null) {
    const c = await this.#write(['chats'], (tx) => updateChat(tx, peer, (x) => {
      if (name) x.name = { username: name.username || '', display_name: name.display_name || '' };
      if (!x.activity) x.activity = Date.now();
    }));
    this.#tell([peer]);
    return c;
  }

  // messages returns a chat's latest messages (maxShown at most), oldest
  // first; none whose self-destruct time has come, even before the sweep
  // deletes it. A long chat is not read whole.
  async messages(peer) {
    const now = Date.now();
    const list = await this.#read('messages', (s) => new Promise((resolve, reject) => {
      const out = [];
      const r = s.index('peer').openCursor(IDBKeyRange.bound([peer, -Infinity], [peer, Infinity]), 'prev');
      r.onerror = () => reject(r.error);
      r.onsuccess = () => {
        const cur = r.result;
        if (!cur || out.length === maxShown) {
          resolve(out);
          return;
        }
        if (!(cur.value.expireAt <= now)) out.push(cur.value);
        cur.continue();
      };
    }));
    return list.reverse();
  }

  async message(id) {
    return this.#read('messages', (s) => request(s.get(id)));
  }

  async setTimer(peer, seconds) {
    await this.#updateChat(peer, (c) => { c.timer = seconds; });
  }

  async markRead(peer) {
    const c = await this.chat(peer);
    if (c && c.unread) await this.#updateChat(peer, (x) => { x.unread = 0; });
  }

  // markShown records that received messages were displayed: a timer
  // starts counting then.
  async markShown(ids) {
    const now = Date.now();
    let peer = null;
    await this.#write(['messages'], async (tx) => {
      const s = tx.objectStore('messages');
      for (const id of ids) {
        const m = await request(s.get(id));
        if (!m || m.shownAt) continue;
        m.shownAt = now;
        if (m.expire) m.expireAt = now + m.expire * 1000;
        peer = m.peer;
        s.put(m);
      }
    });
    if (peer !== null) this.#tell([peer]);
  }

  // remove deletes a message from this device.
  async remove(id) {
    const m = await this.message(id);
    if (!m) return;
    await this.#write(['messages', 'chats'], async (tx) => {
      tx.objectStore('messages').delete(id);
      await refreshLast(tx, m.peer);
    });
    this.#tell([m.peer]);
  }

  // removeChat deletes a secret chat and its messages from this device.
  async removeChat(peer) {
    await this.#write(['messages', 'chats'], async (tx) => {
      const keys = await request(tx.objectStore('messages').index('peer').getAllKeys(IDBKeyRange.bound([peer, -Infinity], [peer, Infinity])));
      for (const k of keys) tx.objectStore('messages').delete(k);
      tx.objectStore('chats').delete(peer);
    });
    this.#tell([peer]);
  }

  // #updateMessage changes a stored message with fn.
  async #updateMessage(id, fn) {
    const peer = await this.#write(['messages'], async (tx) => {
      const s = tx.objectStore('messages');
      const m = await request(s.get(id));
      if (!m) return null;
      fn(m);
      s.put(m);
      return m.peer;
    });
    if (peer !== null) this.#tell([peer]);
  }

  // #updateChat changes a chat's record with fn.
  async #updateChat(peer, fn) {
    await this.#write(['chats'], (tx) => updateChat(tx, peer, fn));
    this.#tell([peer]);
  }

  // #schedule deletes the messages whose self-destruct time has come, and
  // sets a timer for the next one.
  #schedule() {
    clearTimeout(this.#timer);
    if (this.#closed) return;
    this.#timer = setTimeout(() => this.#sweep().catch(() => {}), 0);
  }

  async #sweep() {
    if (this.#closed) return;
    const now = Date.now();
    const peers = new Set();
    const next = await this.#write(['messages', 'chats'], async (tx) => {
      const idx = tx.objectStore('messages').index('expireAt');
      const gone = await request(idx.getAll(IDBKeyRange.upperBound(now)));
      for (const m of gone) {
        tx.objectStore('messages').delete(m.id);
        peers.add(m.peer);
      }
      for (const p of peers) await refreshLast(tx, p);
      const cur = await request(idx.openCursor(IDBKeyRange.lowerBound(now, true)));
      return cur ? cur.value.expireAt : 0;
    });
    if (peers.size) this.#tell([...peers]);
    clearTimeout(this.#timer);
    if (next && !this.#closed) this.#timer = setTimeout(() => this.#sweep().catch(() => {}), Math.min(next - now, 2 ** 31 - 1));
  }
}
