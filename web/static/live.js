// The live update stream and gap-free sync (docs/api.md, "staying in sync").
// Changes to private chats and small groups are numbered by the user's pts;
// channels and large groups by their own seq. An update that skips a number
// waits a moment for the missing one, then the gap is fetched; after every
// reconnect the hello frame says how far behind the app is, and it catches
// up the same way. The connection is reopened by itself, with backoff.
import { api, token } from './api.js';

const gapWait = 250; // ms to wait for a change that arrives out of order
const pingEvery = 25000; // ms between the app's pings
const pongWait = 10000; // ms without any frame after a ping: the line is dead

export class Live {
  // apply(event) applies one change; reset(chatId) reloads the chat list
  // (and the chat, if given) when a gap is too long to replay; status(s)
  // hears 'connecting', 'online' or 'offline' with the retry time; nudge(type)
  // hears the frames that tell this device to fetch: 'secret' (secret-chat
  // envelopes wait) and 'decision' (a decision about the user was taken or
  // reversed), both also said after every reconnection, since nudges sent
  // meanwhile are lost, and 'secret_keys_low'.
  constructor({ apply, reset, status, nudge = () => {} }) {
    Object.assign(this, { apply, reset, status, nudge });
    this.pts = 0;
    this.seqs = new Map(); // large chat ID -> seq
    this.pending = new Map(); // pts -> event, arrived early
    this.pendingChat = new Map(); // chat ID -> Map(seq -> event)
    this.unavailable = new Set(); // chats found taken down, not fetched from
    this.timers = new Map();
    this.attempt = 0;
    this.ws = null;
    this.stopped = true;
    this.queue = Promise.resolve(); // syncs run one at a time
    this.onOnline = () => this.retryNow();
  }

  // start begins from a sync state (GET /api/v1/updates/state) and connects.
  start(state) {
    this.pts = state.pts;
    for (const c of state.large_chats || []) this.seqs.set(c.chat_id, c.seq);
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    clearTimeout(this.retryTimer);
    clearTimeout(this.pingTimer);
    clearTimeout(this.pongTimer);
    for (const tm of this.timers.values()) clearTimeout(tm);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }

  // follow starts syncing a large chat from seq (after joining one).
  follow(chatId, seq) {
    if (!this.seqs.has(chatId)) this.seqs.set(chatId, seq);
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.status('connecting');
    const url = new URL('/api/v1/live', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws;
    try {
      ws = new WebSocket(url, ['kurir.v1', `kurir.token.${token()}`]);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onmessage = (e) => {
      if (ws !== this.ws) return;
      this.heard();
      let f;
      try { f = JSON.parse(e.data); } catch { return; }
      this.frame(f);
    };
    ws.onclose = (e) => {
      if (ws !== this.ws) return;
      this.ws = null;
      clearTimeout(this.pingTimer);
      clearTimeout(this.pongTimer);
      if (this.stopped) return;
      if (e.code === 4000) {
        // The server dropped events for us: catch up, then come back at once.
        this.status('connecting');
        this.catchUp().finally(() => this.connect());
        return;
      }
      this.scheduleRetry();
    };
  }

  scheduleRetry() {
    const base = Math.min(15000, 500 * 2 ** this.attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt++;
    this.status('offline', Date.now() + delay);
    this.retryTimer = setTimeout(() => this.connect(), delay);
    if (this.attempt === 2) {
      // Repeated failures may mean the token is gone: a plain request finds
      // out (a 401 logs the app out), while a network error changes nothing.
      api('GET', '/me').catch(() => {});
    }
  }

  // retryNow reconnects at once if the stream is down (the Retry button, or
  // the browser coming back online).
  retryNow() {
    if (this.stopped || this.ws) return;
    this.attempt = 0;
    this.connect();
  }

  // heard notes that the server is alive and schedules the next ping.
  heard() {
    clearTimeout(this.pongTimer);
    clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(() => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
      this.ws.send('{"type":"ping"}');
      this.pongTimer = setTimeout(() => this.ws && this.ws.close(), pongWait);
    }, pingEvery);
  }

  frame(f) {
    switch (f.type) {
      case 'hello':
        this.attempt = 0;
        this.status('online');
        this.hello(f);
        this.nudge('secret');
        this.nudge('decision');
        break;
      case 'secret':
      case 'secret_keys_low':
      case 'decision':
        this.nudge(f.type);
        break;
      case 'update':
        this.update(f.pts, f.event);
        break;
      case 'chat_event':
        this.chatEvent(f.event);
        break;
      default: // pong, error, resync (followed by close code 4000)
    }
  }

  hello(f) {
    this.sync(async () => {
      if (f.pts > this.pts) await this.difference();
      for (const c of f.large_chats || []) {
        const known = this.seqs.get(c.chat_id);
        if (known === undefined) {
          this.seqs.set(c.chat_id, c.seq);
          this.reset(c.chat_id); // joined while away
        } else if (c.seq > known) {
          await this.chatDifference(c.chat_id);
        }
      }
    });
  }

  update(pts, event) {
    if (pts <= this.pts) return; // seen
    if (pts === this.pts + 1 && this.pending.size === 0) {
      this.pts = pts;
      this.applyOne(event);
      return;
    }
    this.pending.set(pts, event);
    this.drain();
    if (this.pending.size > 0) this.gap('pts', () => this.difference());
  }

  // drain applies early updates that have become next in line.
  drain() {
    while (this.pending.has(this.pts + 1)) {
      const ev = this.pending.get(this.pts + 1);
      this.pending.delete(this.pts + 1);
      this.pts++;
      this.applyOne(ev);
    }
    for (const p of this.pending.keys()) if (p <= this.pts) this.pending.delete(p);
  }

  chatEvent(ev) {
    const id = ev.chat_id;
    this.unavailable.delete(id);
    const known = this.seqs.get(id);
    if (known === undefined) {
      // The first event of a chat just joined (the hub follows it for us).
      this.seqs.set(id, ev.seq);
      this.applyOne(ev);
      return;
    }
    if (ev.seq <= known) return;
    if (ev.seq === known + 1 && !this.pendingChat.get(id)?.size) {
      this.seqs.set(id, ev.seq);
      this.applyOne(ev);
      if (ev.user_id && (ev.kind === 'leave' || ev.kind === 'remove')) this.forgetIfLeft(ev);
      return;
    }
    if (!this.pendingChat.has(id)) this.pendingChat.set(id, new Map());
    this.pendingChat.get(id).set(ev.seq, ev);
    this.drainChat(id);
    if (this.pendingChat.get(id).size > 0) this.gap(`chat${id}`, () => this.chatDifference(id));
  }

  forgetIfLeft(ev) {
    if (this.me && ev.user_id === this.me) this.seqs.delete(ev.chat_id);
  }

  drainChat(id) {
    const early = this.pendingChat.get(id);
    let seq = this.seqs.get(id);
    while (early.has(seq + 1)) {
      const ev = early.get(seq + 1);
      early.delete(seq + 1);
      seq++;
      this.seqs.set(id, seq);
      this.applyOne(ev);
    }
    for (const s of early.keys()) if (s <= seq) early.delete(s);
  }

  // gap waits briefly for a missing change before fetching it.
  gap(name, fetch) {
    if (this.timers.has(name)) return;
    this.timers.set(name, setTimeout(() => {
      this.timers.delete(name);
      this.sync(fetch);
    }, gapWait));
  }

  sync(fn) {
    this.queue = this.queue.then(fn).catch(() => {
      // Offline or a server error: the next hello tries again.
    });
    return this.queue;
  }

  // catchUp fetches everything missed, in the log and every large chat.
  catchUp() {
    return this.sync(async () => {
      await this.difference();
      for (const id of [...this.seqs.keys()]) await this.chatDifference(id);
    });
  }

  async difference() {
    for (;;) {
      const r = await api('GET', `/updates?pts=${this.pts}`);
      if (r.too_long) {
        this.pts = r.pts;
        this.pending.clear();
        this.reset(0);
        return;
      }
      for (const u of r.updates) {
        if (u.pts <= this.pts) continue;
        this.pts = u.pts;
        this.applyOne(u.event);
      }
      this.pts = Math.max(this.pts, r.pts);
      this.drain();
      if (r.updates.length < 100) return;
    }
  }

  async chatDifference(id) {
    for (;;) {
      const seq = this.seqs.get(id);
      if (seq === undefined) return;
      let r;
      try {
        r = await api('GET', `/chats/${id}/updates?seq=${seq}`);
      } catch (e) {
        if (e.reason === 'chat_unavailable' || e.reason === 'withheld_in_country') {
          // Taken down, or withheld where the reader is: nothing to fetch
          // until it is reinstated or the restriction lifted, which its
          // next event says. Keep following it, and show it unavailable
          // once, in case the takedown or restriction itself was missed.
          this.pendingChat.delete(id);
          if (!this.unavailable.has(id)) {
            this.unavailable.add(id);
            this.reset(id);
          }
          return;
        }
        if (e.status === 403 || e.status === 404) { // no longer a member
          this.seqs.delete(id);
          this.pendingChat.delete(id);
          return;
        }
        throw e;
      }
      if (r.too_long) {
        this.seqs.set(id, r.seq);
        this.pendingChat.delete(id);
        this.reset(id);
        return;
      }
      for (const ev of r.events) {
        if (ev.seq <= this.seqs.get(id)) continue;
        this.seqs.set(id, ev.seq);
        this.applyOne(ev);
      }
      if (r.seq > this.seqs.get(id)) this.seqs.set(id, r.seq);
      if (this.pendingChat.has(id)) this.drainChat(id);
      if (r.events.length < 100) return;
    }
  }

  applyOne(ev) {
    if (ev.kind === 'large') this.follow(ev.chat_id, ev.seq);
    try {
      this.apply(ev);
    } catch (e) {
      console.error('apply event', ev, e); // a bug in a screen must not stop the stream
    }
  }
}
