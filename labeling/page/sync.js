// Talking to the server and keeping answers on the device: the part of the page that makes sure
// nothing is lost (labeling/API.md, "Draft / idempotency contract for the page").
//
// - api() never retries by itself; apiPatient() retries calls that are safe to repeat.
// - deliver() sends a draft's pending answer (submit or skip) with its stored Idempotency-Key and
//   body, again and again, until the server gives a definite answer.
// - Drafts live in localStorage, one entry per (labeler, assignment).
'use strict';

(function (root) {
  const API = '/api/v1';
  const DRAFT_PREFIX = 'rlhf.draft.v1.';
  const REQUEST_TIMEOUT_MS = 15000;
  const RETRY_MAX_DELAY_MS = 8000;

  // One request. Resolves {status, data, headers} for any HTTP answer; rejects only when no answer
  // came back (network down, server killed, timeout), which callers treat as "retry".
  async function api(method, path, opts = {}) {
    const headers = Object.assign({}, opts.headers || {});
    let body;
    if (opts.rawBody !== undefined) {
      body = opts.rawBody;  // already serialised: retries must send the very same bytes
      headers['Content-Type'] = 'application/json';
    } else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['Content-Type'] = 'application/json';
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), opts.timeoutMs || REQUEST_TIMEOUT_MS);
    try {
      const res = await fetch(API + path, {
        method, headers, body, credentials: 'same-origin', cache: 'no-store',
        signal: controller.signal,
      });
      const text = await res.text();
      let data = null;
      if (text) {
        try { data = JSON.parse(text); } catch (e) { data = null; }
      }
      return { status: res.status, data, headers: res.headers };
    } finally {
      clearTimeout(timer);
    }
  }

  function errorCode(r) {
    return r && r.data && r.data.error ? r.data.error.code : '';
  }

  function errorMessage(r) {
    if (r && r.data && r.data.error) {
      const e = r.data.error;
      return e.field ? `${e.message} (${e.field})` : e.message;
    }
    return r ? `HTTP ${r.status}` : 'no answer from the server';
  }

  // No answer, a server error, a timeout or "slow down": worth trying again.
  const retryable = (r) => !r || r.status >= 500 || r.status === 408 || r.status === 429;

  function retryDelay(attempt) {
    return Math.min(500 * 2 ** attempt, RETRY_MAX_DELAY_MS);
  }

  // Waits for the retry delay, or less if the browser says the network is back.
  function waitForRetry(attempt) {
    return new Promise((resolve) => {
      const done = () => { window.removeEventListener('online', done); clearTimeout(t); resolve(); };
      const t = setTimeout(done, retryDelay(attempt));
      window.addEventListener('online', done);
    });
  }

  // Calls that are safe to repeat (GET, tasks/next): keep trying while the server is unreachable.
  async function apiPatient(method, path, opts, onWait) {
    for (let attempt = 0; ; attempt++) {
      let r = null;
      try { r = await api(method, path, opts); } catch (e) { r = null; }
      if (!retryable(r)) return r;
      if (onWait) onWait(attempt, r);
      await waitForRetry(attempt);
    }
  }

  function newIdempotencyKey() {
    // getRandomValues works on plain http too (randomUUID needs a secure context).
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // Sends a draft's pending answer until the server gives a definite answer. Returns
  // {outcome, r}: "saved" (200/201: safe, clear the draft), "gone" (404 or already answered),
  // "auth" (401: sign in again, keep the draft) or "rejected" (another 4xx: let the labeler fix it).
  async function deliver(draft, onRetry) {
    const p = draft.pending;
    for (let attempt = 0; ; attempt++) {
      let r = null;
      try {
        r = await api('POST', `/assignments/${draft.assignmentId}/${p.kind}`, {
          rawBody: p.body, headers: { 'Idempotency-Key': p.key },
        });
      } catch (e) {
        r = null;
      }
      if (r && (r.status === 200 || r.status === 201)) return { outcome: 'saved', r };
      if (r && r.status === 401) return { outcome: 'auth', r };
      const code = errorCode(r);
      if (r && (r.status === 404 || code === 'already_submitted' || code === 'already_skipped')) {
        return { outcome: 'gone', r };
      }
      if (!retryable(r)) return { outcome: 'rejected', r };
      if (onRetry) onRetry(attempt, r);
      await waitForRetry(attempt);
    }
  }

  // ---- drafts ---------------------------------------------------------------------------------
  // {v, assignmentId, tiers: [[id]], annotations: {id: {likert, flags}}, comment, startedAt,
  //  savedAt, pending: null | {kind: "submit"|"skip", key, body}}

  const draftKey = (labeler, assignmentId) => `${DRAFT_PREFIX}${labeler}.${assignmentId}`;

  function newDraft(assignmentId) {
    return {
      v: 1, assignmentId, tiers: [], annotations: {}, comment: '',
      startedAt: Date.now(), savedAt: Date.now(), pending: null,
    };
  }

  function readDraft(labeler, assignmentId) {
    try {
      const d = JSON.parse(localStorage.getItem(draftKey(labeler, assignmentId)));
      return d && d.v === 1 ? d : null;
    } catch (e) {
      return null;
    }
  }

  // Throws when the browser refuses (storage full or disabled): the caller warns the labeler.
  function writeDraft(labeler, draft) {
    draft.savedAt = Date.now();
    localStorage.setItem(draftKey(labeler, draft.assignmentId), JSON.stringify(draft));
  }

  function removeDraft(labeler, assignmentId) {
    try { localStorage.removeItem(draftKey(labeler, assignmentId)); } catch (e) { /* nothing to do */ }
  }

  // All drafts of one labeler, oldest first.
  function listDrafts(labeler) {
    const prefix = draftKey(labeler, '');
    const out = [];
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i);
      if (!key || !key.startsWith(prefix)) continue;
      const d = readDraft(labeler, key.slice(prefix.length));
      if (d) out.push(d);
    }
    return out.sort((a, b) => a.savedAt - b.savedAt);
  }

  root.RlhfSync = {
    api, apiPatient, deliver, errorCode, errorMessage, retryable, newIdempotencyKey,
    newDraft, readDraft, writeDraft, removeDraft, listDrafts,
  };
})(globalThis);
