// The kurir HTTP API as the app uses it: bearer-token requests, problem+json
// errors, uploads with progress and authenticated downloads as blob: URLs.
import { t, language } from './i18n.js';
import { formatSize } from './dom.js';

const tokenKey = 'kurir.token';
let unauthorized = () => {};
let withdrawn = () => {};

// ApiError is a failed request. detail is the server's words for people;
// code, reason, field and the values a refusal is worded with (retryAfter
// in seconds, limit, country) come from the server's problem details;
// network is set when the server could not be reached at all.
export class ApiError extends Error {
  constructor({
    status = 0, code = '', reason = '', field = '', detail = '', requestId = '', network = false,
    retryAfter = 0, limit = 0, country = '',
  }) {
    super(detail || code || 'request failed');
    Object.assign(this, { status, code, reason, field, detail, requestId, network, retryAfter, limit, country });
  }
}

// token is kept in localStorage so that every tab of the app shares it.
export function token() {
  return localStorage.getItem(tokenKey) || '';
}

export function setToken(v) {
  if (v) localStorage.setItem(tokenKey, v);
  else localStorage.removeItem(tokenKey);
}

// onUnauthorized registers what to do when the server no longer accepts
// the token (logged out elsewhere, revoked, expired).
export function onUnauthorized(fn) {
  unauthorized = fn;
}

// onWithdrawn registers what to do when the server refuses the caller
// because the operator has left the market where they are (HTTP 451,
// market_withdrawn): every request will be refused the same way.
export function onWithdrawn(fn) {
  withdrawn = fn;
}

// headers are a request's headers. bearer, if given, is the token to send
// instead of the user's (the law-enforcement portal's officer token; '' for
// none).
function headers(extra, bearer) {
  // The server writes its refusals (such as a withdrawn market's) in the
  // app's language.
  const hs = { 'Accept-Language': language(), ...extra };
  const tok = bearer ?? token();
  if (tok) hs.Authorization = `Bearer ${tok}`;
  return hs;
}

async function problem(resp, bearer) {
  let p = {};
  if ((resp.headers.get('Content-Type') || '').includes('json')) {
    try { p = await resp.json(); } catch { p = {}; }
  }
  return problemError(resp.status, p, bearer);
}

// problemError is the ApiError of a refusal. A 401 to a request made with
// the user's token logs the user out; one made with another bearer is the
// caller's to handle.
function problemError(status, p, bearer) {
  const err = new ApiError({
    status, code: p.code || '', reason: p.reason || '', field: p.field || '',
    detail: p.detail || t('error.status', { status }), requestId: p.request_id || '',
    retryAfter: Number(p.retry_after) || 0, limit: Number(p.limit) || 0, country: p.country || '',
  });
  if (status === 401 && bearer === undefined && token()) unauthorized(err);
  if (status === 451 && err.reason === 'market_withdrawn') withdrawn(err);
  return err;
}

const networkError = () => new ApiError({ network: true, detail: t('error.network') });

// api makes one JSON request to /api/v1+path and returns the decoded answer
// (null for 204), or throws an ApiError. bearer, if given, is sent instead
// of the user's token.
export async function api(method, path, body, { signal, bearer } = {}) {
  let resp;
  try {
    resp = await fetch(`/api/v1${path}`, {
      method,
      headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }, bearer),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: 'no-store',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw networkError();
  }
  if (!resp.ok) throw await problem(resp, bearer);
  if (resp.status === 204) return null;
  return resp.json();
}

let config = null;
// serverConfig resolves to the server's limits (GET /api/v1/config: the
// longest text and caption, the largest file), asked once a page load, or
// to null if the server could not be asked (it is asked again next time).
export function serverConfig() {
  config ??= api('GET', '/config').catch(() => {
    config = null;
    return null;
  });
  return config;
}

// upload sends a file with POST /api/v1/media (or /api/v1+path), reporting
// progress as a fraction to onProgress, and resolves to the stored object.
// Calling the returned abort cancels it. bearer is as for api.
export function upload(file, onProgress, { path = '/media', bearer } = {}) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open('POST', `/api/v1${path}?name=${encodeURIComponent(file.name)}`);
    for (const [k, v] of Object.entries(headers({}, bearer))) xhr.setRequestHeader(k, v);
    if (file.type) xhr.setRequestHeader('Content-Type', file.type);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch { body = {}; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(problemError(xhr.status, body, bearer));
    };
    xhr.onerror = () => reject(networkError());
    xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'));
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}

// Resumable uploads: POST /api/v1/uploads, then the bytes in parts of
// uploadPart with PATCH, each at the offset the server has reached. A part
// cut off by a lost connection or a restarting server is resumed from
// where the server stands (GET /api/v1/uploads/{id}) once it answers
// again; the upload's ID is kept in sessionStorage under the file's name,
// size and date, so that choosing the same file again after a reload goes
// on from there too.
const uploadPart = 4 << 20;
const uploadKeyPrefix = 'kurir.upload.';
const uploadPatience = 120_000; // how long to keep trying without progress

function uploadKey(file) {
  return `${uploadKeyPrefix}${file.name}|${file.size}|${file.lastModified}`;
}

// retryable says whether a failed request may go through if tried again
// later: the server could not be reached, or was restarting.
function retryable(err) {
  return err.network || err.status === 502 || err.status === 503 || err.status === 504;
}

// uploadResumable sends file by a resumable upload, reporting progress as
// a fraction to onProgress (and onWaiting(true) while it waits for the
// server to answer again), and resolves to the stored media object. The
// returned abort stops it; the server drops the unfinished upload when it
// expires.
export function uploadResumable(file, onProgress, { onWaiting = () => {} } = {}) {
  let xhr = null;
  let aborted = false;
  let wake = () => {};
  const abortErr = () => new DOMException('aborted', 'AbortError');
  const pause = (ms) => new Promise((resolve) => { wake = resolve; setTimeout(resolve, ms); });
  const send = (id, offset, part) => new Promise((resolve, reject) => {
    xhr = new XMLHttpRequest();
    xhr.open('PATCH', `/api/v1/uploads/${encodeURIComponent(id)}`);
    for (const [k, v] of Object.entries(headers({ 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset) }))) {
      xhr.setRequestHeader(k, v);
    }
    xhr.upload.onprogress = (e) => onProgress(Math.min(1, (offset + e.loaded) / Math.max(1, file.size)));
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch { body = {}; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(problemError(xhr.status, body));
    };
    xhr.onerror = () => reject(networkError());
    xhr.onabort = () => reject(abortErr());
    xhr.send(part);
  });
  const key = uploadKey(file);
  const done = (async () => {
    let u = null;
    const saved = sessionStorage.getItem(key);
    if (saved) {
      try {
        u = await api('GET', `/uploads/${encodeURIComponent(saved)}`);
      } catch (err) {
        if (retryable(err)) throw err;
        sessionStorage.removeItem(key); // expired or gone: start again
      }
    }
    if (!u) {
      u = await api('POST', '/uploads', { name: file.name, size: file.size, ...(file.type ? { content_type: file.type } : {}) });
      sessionStorage.setItem(key, u.id);
    }
    let since = Date.now();
    let wait = 500;
    while (!u.media) {
      if (aborted) throw abortErr();
      onProgress(u.received / Math.max(1, file.size));
      try {
        u = await send(u.id, u.received, file.slice(u.received, Math.min(u.received + uploadPart, file.size)));
        since = Date.now();
        wait = 500;
        onWaiting(false);
        continue;
      } catch (err) {
        if (err.name === 'AbortError' || aborted) throw abortErr();
        if (!retryable(err) && err.reason !== 'offset_mismatch') throw err;
        if (Date.now() - since > uploadPatience) throw err;
      }
      // Find out where the server stands, once it answers again.
      for (;;) {
        onWaiting(true);
        await pause(wait);
        wait = Math.min(wait * 2, 8000);
        if (aborted) throw abortErr();
        try {
          u = await api('GET', `/uploads/${encodeURIComponent(u.id)}`);
          onWaiting(false);
          break;
        } catch (err) {
          if (!retryable(err) || Date.now() - since > uploadPatience) {
            onWaiting(false);
            throw err;
          }
        }
      }
    }
    sessionStorage.removeItem(key);
    onProgress(1);
    return u.media;
  })();
  return {
    done,
    abort: () => {
      aborted = true;
      if (xhr) xhr.abort();
      wake();
    },
    // retryNow cuts a wait for the server short.
    retryNow: () => wake(),
  };
}

// blobs maps a download path to its object URL, so that a photo shown twice
// is downloaded once. forgetBlobs frees them all (at logout).
const blobs = new Map();

// blobURL downloads /api/v1+path once and resolves to its object URL;
// bearer is as for api.
export function blobURL(path, { bearer } = {}) {
  if (!blobs.has(path)) {
    const p = (async () => {
      let resp;
      try {
        resp = await fetch(`/api/v1${path}`, { headers: headers({}, bearer) });
      } catch {
        throw networkError();
      }
      if (!resp.ok) throw await problem(resp, bearer);
      return URL.createObjectURL(await resp.blob());
    })();
    blobs.set(path, p);
    p.catch(() => blobs.delete(path));
  }
  return blobs.get(path);
}

export function forgetBlobs() {
  for (const p of blobs.values()) p.then((u) => URL.revokeObjectURL(u), () => {});
  blobs.clear();
}

// errorText is what to tell a person about err: the catalog's words for
// its reason, in the app's language, or else the server's detail.
export function errorText(err) {
  if (!(err instanceof ApiError)) return t('error.unexpected');
  if (err.status >= 500 && err.requestId) return `${err.detail} ${t('error.request_id', { id: err.requestId })}`;
  return reasonText(err) || err.detail;
}

// everydayLimits are the rate limits a person meets in the app (logging in,
// sending, uploading; '' is the server's limit on requests), which are
// all "too many attempts"; others say more in their detail.
const everydayLimits = new Set(['', 'too_many_attempts', 'sending_too_fast', 'new_account_limit', 'upload_rate', 'too_many_sends']);

// reasonText words the refusals a person meets in everyday use from their
// stable reason and the values the server sends with it; '' for any other,
// whose detail is shown instead. Refusals the server already words in the
// app's language (market_withdrawn, feature_unavailable) keep its words.
function reasonText(err) {
  const { limit, retryAfter: seconds } = err;
  const n = (v) => new Intl.NumberFormat(language()).format(v);
  if (err.code === 'rate_limited' && everydayLimits.has(err.reason)) {
    return seconds ? t('error.rate_limited_wait', { time: waitText(seconds) }) : t('error.rate_limited');
  }
  switch (err.reason) {
    case 'too_long': return limit ? t('error.too_long', { max: n(limit) }) : '';
    case 'too_large': return limit ? t('error.too_large', { max: formatSize(limit) }) : '';
    case 'quota_exceeded': return limit ? t('error.quota_exceeded', { max: formatSize(limit) }) : '';
    case 'empty_file': return t('error.empty_file');
    case 'weak_password': return t('error.weak_password');
    case 'password_too_long': return t('error.password_too_long');
    case 'username_taken': return t('error.username_taken');
    case 'username_reserved': return t('error.username_reserved');
    case 'wrong_credentials': return t('error.wrong_credentials');
    case 'wrong_password': return t('error.wrong_password');
    case 'blocked': return t('error.blocked');
    case 'not_member': return t('error.not_member');
    case 'content_blocked': return t('error.content_blocked');
    case 'content_held': return t('error.content_held');
    case 'media_blocked': return t('error.media_blocked');
    case 'media_held': return t('error.media_held');
    // The server's refusal quotes the decision's facts in English: the
    // decision itself, which the refusal's button opens, is in the
    // reader's language.
    case 'account_suspended': return t('mod.refused_suspended');
    case 'account_banned': return t('mod.refused_banned');
    case 'withheld_in_country':
      return err.country ? t('law.withheld_preview', { country: err.country }) : t('law.withheld_short');
    default: return '';
  }
}

// waitText is a wait of the given seconds, in the app's language, in the
// largest unit that says it ("in 3 minutes").
function waitText(seconds) {
  const rtf = new Intl.RelativeTimeFormat(language(), { numeric: 'always' });
  if (seconds < 90) return rtf.format(seconds, 'second');
  if (seconds < 90 * 60) return rtf.format(Math.ceil(seconds / 60), 'minute');
  return rtf.format(Math.ceil(seconds / 3600), 'hour');
}

// newKey is a fresh idempotency key.
export function newKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}
