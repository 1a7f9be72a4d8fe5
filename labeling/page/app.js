// The labeling page: one assignment at a time, ranked by drag and drop, keyboard or clicks.
//
// Ground rules (see labeling/API.md):
// - Model and prompt text is only ever put into the page with textContent (never innerHTML), so
//   whatever the model wrote is shown literally.
// - The CSP is default-src 'self': no inline scripts or style attributes in markup; positions
//   during a drag are set through the CSSOM (element.style), which the CSP allows.
// - Nothing is lost: every edit is written to a local draft (localStorage) at once, and a submit
//   keeps its body and Idempotency-Key in the draft until the server answers 200/201, so a reload,
//   a dropped connection or a restarted server only delays the answer.
'use strict';

(function () {
  // ranking.js, sync.js and drag.js are loaded before this file (index.html).
  const { compact, tierOf, putInTier, insertTier, unrank, moveUp, moveDown, rankLabel } = window.RlhfRanking;
  const S = window.RlhfSync;
  const { api, apiPatient, errorCode, errorMessage } = S;

  const DRAFT_MAX_AGE_MS = 14 * 24 * 3600 * 1000;  // forget abandoned drafts after two weeks
  const UNDO_LIMIT = 200;

  // ---------------------------------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------------------------------
  const state = {
    me: null,           // GET /me
    options: null,      // GET /options (flags, skip reasons, Likert scale, limits)
    assignment: null,   // the task on screen
    draft: null,        // what is saved locally for it (format in sync.js)
    undo: [],           // snapshots of {tiers, annotations} before each change
    cards: new Map(),   // response id -> card element (built once per assignment, then moved)
    letters: new Map(), // response id -> "A", "B", ... in shown order
    busy: false,        // a submit or skip is in flight: the answer is frozen
    layout: null,       // the tiers the board was last laid out for (JSON)
  };

  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // ---------------------------------------------------------------------------------------------
  // Local drafts (stored by sync.js, one per labeler and assignment)
  // ---------------------------------------------------------------------------------------------

  function saveDraft() {
    const d = state.draft;
    if (!d) return;
    try {
      S.writeDraft(state.me.name, d);
      if (!d.pending) setSync('Draft saved on this device');
    } catch (e) {
      setSync('Could not save a local draft: keep this tab open until you submit', true);
    }
  }

  function dropDraft(assignmentId) {
    S.removeDraft(state.me.name, assignmentId);
  }

  // ---------------------------------------------------------------------------------------------
  // Where the cards are (the tier operations themselves are in ranking.js)
  // ---------------------------------------------------------------------------------------------

  function unrankedIds() {
    const ranked = new Set(state.draft.tiers.flat());
    return state.assignment.responses.map((r) => r.id).filter((id) => !ranked.has(id));
  }

  // Cards top to bottom as on screen: ranked tiers, then the unranked ones in shown order.
  function displayOrder() {
    return state.draft.tiers.flat().concat(unrankedIds());
  }

  // ---------------------------------------------------------------------------------------------
  // Edits: each one is undoable and saved locally before anything else happens.
  // ---------------------------------------------------------------------------------------------

  function snapshot() {
    return JSON.stringify({ tiers: state.draft.tiers, annotations: state.draft.annotations });
  }

  function edit(mutate, announcement) {
    if (state.busy) return;
    const before = snapshot();
    mutate(state.draft);
    if (snapshot() === before) return;  // a no-op is not worth an undo step
    state.undo.push(before);
    if (state.undo.length > UNDO_LIMIT) state.undo.shift();
    saveDraft();
    render();
    if (announcement) announce(announcement());
  }

  function setTiers(newTiers, id) {
    edit((d) => { d.tiers = newTiers; }, () => describeCard(id));
  }

  function undo() {
    if (state.busy || state.undo.length === 0) return;
    const prev = JSON.parse(state.undo.pop());
    state.draft.tiers = prev.tiers;
    state.draft.annotations = prev.annotations;
    saveDraft();
    render();
    announce('Undone');
  }

  function annotation(id) {
    const key = String(id);
    if (!state.draft.annotations[key]) state.draft.annotations[key] = { likert: null, flags: [] };
    return state.draft.annotations[key];
  }

  function describeCard(id) {
    const tiers = state.draft.tiers;
    const i = tierOf(tiers, id);
    const letter = state.letters.get(id);
    if (i < 0) return `Response ${letter}: not ranked`;
    const tied = tiers[i].filter((x) => x !== id).map((x) => state.letters.get(x));
    return `Response ${letter}: ranked ${rankLabel(i)}` + (tied.length ? `, tied with ${tied.join(', ')}` : '');
  }

  // ---------------------------------------------------------------------------------------------
  // Rendering
  // ---------------------------------------------------------------------------------------------

  function showView(name) {
    for (const v of ['loading', 'login', 'message', 'task']) $(`${v}-view`).hidden = v !== name;
  }

  function setLoading(text) {
    $('loading-text').textContent = text;
    showView('loading');
  }

  function setSync(text, warn) {
    const s = $('sync');
    s.textContent = text;
    s.classList.toggle('warn', !!warn);
  }

  function announce(text) {
    $('announcer').textContent = text;
  }

  function renderProgress() {
    const me = state.me;
    if (!me) { $('progress').textContent = ''; return; }
    const p = me.progress || {};
    $('progress').textContent =
      `${me.name} · ${p.submitted || 0} done · ${p.skipped || 0} skipped · ${p.remaining || 0} left`;
    $('logout-btn').hidden = false;
  }

  function renderConversation(prompt) {
    const box = $('conversation');
    box.replaceChildren();
    $('prompt-kind').textContent = prompt.kind || '';
    let turns = prompt.conversation;
    if (!Array.isArray(turns)) turns = [{ role: 'user', content: prompt.text || prompt.prompt || '' }];
    turns.forEach((turn, i) => {
      const node = el('div', `turn turn-${turn.role === 'assistant' || turn.role === 'system' ? turn.role : 'user'}`);
      if (i === turns.length - 1) node.classList.add('turn-last');
      node.append(el('div', 'turn-role', turn.role === 'assistant' ? 'Assistant'
        : turn.role === 'system' ? 'System' : 'User'));
      node.append(el('div', 'turn-text', String(turn.content)));  // textContent: shown literally
      box.append(node);
    });
  }

  function buildCard(response, index) {
    const id = response.id;
    const letter = String.fromCharCode(65 + index);
    state.letters.set(id, letter);

    const card = el('div', 'card');
    card.tabIndex = 0;
    card.dataset.id = String(id);
    card.setAttribute('role', 'listitem');

    const head = el('div', 'card-head');
    const grip = el('span', 'grip', '⠿');
    grip.title = 'Drag to rank';
    grip.setAttribute('aria-hidden', 'true');
    head.append(grip, el('span', 'letter', letter), el('span', 'rank-badge'));
    const actions = el('span', 'card-actions');
    const rankNext = el('button', 'rank-next', 'Rank next');
    rankNext.type = 'button';
    rankNext.title = 'Put this response below everything ranked so far (Enter)';
    const tie = el('button', 'tie-up', '= above');
    tie.type = 'button';
    tie.title = 'Tie with the card above (=)';
    const back = el('button', 'unrank', '×');
    back.type = 'button';
    back.title = 'Back to "not ranked yet" (0)';
    back.setAttribute('aria-label', `Unrank response ${letter}`);
    actions.append(rankNext, tie, back);
    head.append(actions);
    card.append(head);

    card.append(el('div', 'card-text', response.text));  // textContent: shown literally

    card.append(buildAnnotations(id, letter));
    return card;
  }

  // Likert 1-7 and flags for one response, both optional; scale and flags come from /options.
  function buildAnnotations(id, letter) {
    const opts = state.options;
    const details = el('details', 'annot');
    const summary = el('summary', null, 'Rate & flag');
    summary.append(el('span', 'annot-summary'));
    details.append(summary);

    const likert = el('fieldset', 'likert');
    const legend = el('legend', null, `Overall quality of ${letter} `);
    // The scale's ends go into the legend so the row of numbers never wraps on a phone.
    legend.append(el('span', 'muted', `(${opts.likert.min} = ${opts.likert.min_label || 'worst'}, ` +
      `${opts.likert.max} = ${opts.likert.max_label || 'best'})`));
    likert.append(legend);
    const scale = el('div', 'likert-scale');
    for (let v = opts.likert.min; v <= opts.likert.max; v++) {
      const label = el('label', 'likert-option');
      const input = el('input');
      input.type = 'radio';
      input.name = `likert-${id}`;
      input.value = String(v);
      input.addEventListener('change', () => {
        edit((d) => { annotation(id).likert = v; });
      });
      label.append(input, el('span', null, String(v)));
      scale.append(label);
    }
    const clear = el('button', 'linkish likert-clear', 'clear');
    clear.type = 'button';
    clear.addEventListener('click', () => edit((d) => { annotation(id).likert = null; }));
    scale.append(clear);
    likert.append(scale);
    details.append(likert);

    const flags = el('fieldset', 'flags');
    flags.append(el('legend', null, 'Flags'));
    for (const flag of opts.flags) {
      const label = el('label', 'flag');
      label.title = flag.description || '';
      const input = el('input');
      input.type = 'checkbox';
      input.value = flag.code;
      input.addEventListener('change', () => {
        edit(() => {
          const a = annotation(id);
          a.flags = a.flags.filter((f) => f !== flag.code);
          if (input.checked) a.flags.push(flag.code);
        });
      });
      label.append(input, el('span', null, flag.label));
      flags.append(label);
    }
    details.append(flags);
    return details;
  }

  function dropZone(className, attrs, text) {
    const z = el('div', className, text);
    for (const [k, v] of Object.entries(attrs)) z.dataset[k] = String(v);
    return z;
  }

  // Brings the screen in line with the draft. The (persistent) card elements are only moved when
  // the tiers changed: moving an element takes its focus away, which would break keyboard use of
  // the Likert radios and flag boxes inside the cards.
  function render() {
    const d = state.draft;
    const layout = JSON.stringify(d.tiers);
    if (layout !== state.layout) {
      state.layout = layout;
      layoutBoard();
    }
    updateCards();
  }

  function layoutBoard() {
    const d = state.draft;
    const board = $('board');
    const active = document.activeElement;
    const hadFocus = active && board.contains(active);

    board.replaceChildren();
    const ranked = el('div', 'ranked');
    ranked.setAttribute('aria-label', 'Ranked responses, best first');
    if (d.tiers.length === 0) {
      ranked.append(dropZone('gap gap-empty', { gap: 0 },
        'Best response goes here: drag it, press 1, or click “Rank next”'));
    }
    d.tiers.forEach((tier, i) => {
      ranked.append(dropZone('gap', { gap: i }, ''));
      const section = dropZone('tier', { tier: i });
      section.classList.add(`tier-pos-${Math.min(i, 5)}`);
      if (tier.length > 1) section.classList.add('tied');
      const label = el('div', 'tier-label');
      label.append(el('span', 'tier-number', String(i + 1)));
      label.append(el('span', 'tier-word',
        i === 0 ? 'best' : i === d.tiers.length - 1 && unrankedIds().length === 0 ? 'worst' : ''));
      if (tier.length > 1) label.append(el('span', 'tier-tie', 'tie'));
      section.append(label);
      const cards = el('div', 'tier-cards');
      cards.setAttribute('role', 'list');
      cards.setAttribute('aria-label', `Rank ${i + 1}`);
      for (const id of tier) cards.append(state.cards.get(id));
      section.append(cards);
      ranked.append(section);
    });
    if (d.tiers.length > 0) ranked.append(dropZone('gap gap-end', { gap: d.tiers.length }, 'New rank at the bottom'));
    board.append(ranked);

    const rest = unrankedIds();
    const pool = dropZone('pool', { pool: 1 });
    pool.setAttribute('role', 'list');
    pool.append(el('h3', 'pool-title', rest.length
      ? `Not ranked yet (${rest.length})` : 'All responses ranked'));
    for (const id of rest) pool.append(state.cards.get(id));
    board.append(pool);

    // Give the focus back to whatever had it (a card that moved, or a control inside one).
    if (hadFocus && document.activeElement !== active && board.contains(active)) active.focus();
  }

  // Per-card state (badge, which buttons make sense, annotation controls) and the action bar.
  function updateCards() {
    const d = state.draft;
    const rest = unrankedIds();
    const order = displayOrder();
    for (const [id, card] of state.cards) {
      const i = tierOf(d.tiers, id);
      const badge = card.querySelector('.rank-badge');
      badge.textContent = i < 0 ? 'not ranked' : d.tiers[i].length > 1 ? `${rankLabel(i)} (tie)` : rankLabel(i);
      card.classList.toggle('ranked', i >= 0);
      card.querySelector('.rank-next').hidden = i >= 0;
      card.querySelector('.unrank').hidden = i < 0;
      const above = order[order.indexOf(id) - 1];
      card.querySelector('.tie-up').hidden = i < 0 || above === undefined || tierOf(d.tiers, above) === i;

      const a = d.annotations[String(id)] || { likert: null, flags: [] };
      for (const input of card.querySelectorAll('.likert input')) input.checked = Number(input.value) === a.likert;
      for (const input of card.querySelectorAll('.flags input')) input.checked = a.flags.includes(input.value);
      const bits = [];
      if (a.likert) bits.push(`${a.likert}/${state.options.likert.max}`);
      if (a.flags.length) bits.push(`${a.flags.length} flag${a.flags.length > 1 ? 's' : ''}`);
      card.querySelector('.annot-summary').textContent = bits.length ? ` · ${bits.join(' · ')}` : '';
    }

    renderSummary();
    $('undo-btn').disabled = state.busy || state.undo.length === 0;
    $('skip-btn').disabled = state.busy;
    $('submit-btn').disabled = state.busy;
    $('submit-btn').classList.toggle('incomplete', rest.length > 0);
    $('comment').disabled = state.busy;
    $('board').classList.toggle('locked', state.busy);
  }

  function renderSummary() {
    const d = state.draft;
    const s = $('summary');
    s.replaceChildren();
    const ranking = d.tiers.map((t) => t.map((id) => state.letters.get(id)).join(' = ')).join('  >  ');
    s.append(el('span', 'summary-ranking', ranking || 'Nothing ranked yet'));
    const rest = unrankedIds();
    if (rest.length && d.tiers.length) {
      s.append(el('span', 'summary-rest', ` · still to rank: ${rest.map((id) => state.letters.get(id)).join(', ')}`));
    }
  }

  function focusCard(id) {
    const card = state.cards.get(id);
    if (!card) return;
    card.focus();
  }

  // ---------------------------------------------------------------------------------------------
  // Showing an assignment
  // ---------------------------------------------------------------------------------------------

  function showAssignment(assignment) {
    state.assignment = assignment;
    const ids = assignment.responses.map((r) => r.id);
    let draft = S.readDraft(state.me.name, assignment.id);
    if (draft) {
      // Keep only what still matches the responses shown (defensive: ids never change in practice).
      const known = new Set(ids);
      draft.tiers = compact(draft.tiers.map((t) => t.filter((id) => known.has(id))));
      if (typeof draft.comment !== 'string') draft.comment = '';
      if (!draft.annotations || typeof draft.annotations !== 'object') draft.annotations = {};
    } else {
      draft = S.newDraft(assignment.id);
    }
    state.draft = draft;
    state.undo = [];
    state.busy = false;
    state.cards = new Map();
    state.letters = new Map();
    state.layout = null;
    assignment.responses.forEach((r, i) => state.cards.set(r.id, buildCard(r, i)));

    renderConversation(assignment.prompt);
    $('comment').value = draft.comment;
    $('submit-status').textContent = '';
    $('submit-status').classList.remove('error');
    showView('task');
    saveDraft();  // the draft exists from the first second, even before any edit
    render();
    window.scrollTo(0, 0);
    if (draft.pending) sendPending();  // normally flushed at start-up already; never left behind
  }

  // ---------------------------------------------------------------------------------------------
  // Sending answers (submit and skip share the durable path)
  // ---------------------------------------------------------------------------------------------

  function retryText(attempt, r) {
    const why = r ? `server error ${r.status}` : 'no connection to the server';
    return `Not sent yet (${why}). Your answer is saved on this device and is being resent (attempt ${attempt + 2})…`;
  }

  function buildSubmission() {
    const d = state.draft;
    const shown = state.assignment.responses.map((r) => r.id);
    const annotations = [];
    for (const id of shown) {
      const a = d.annotations[String(id)];
      if (!a || (!a.likert && a.flags.length === 0)) continue;
      const entry = { response_id: id };
      if (a.likert) entry.likert = a.likert;
      if (a.flags.length) entry.flags = a.flags.slice();
      annotations.push(entry);
    }
    const body = {
      tiers: d.tiers,
      duration_ms: Math.max(0, Math.min(Date.now() - d.startedAt, 86400000)),
    };
    if (annotations.length) body.annotations = annotations;
    if (d.comment.trim()) body.comment = d.comment;
    if (state.options.guidelines_version) body.guidelines_version = String(state.options.guidelines_version);
    return body;
  }

  function submitStatus(text, isError) {
    const s = $('submit-status');
    s.textContent = text;
    s.classList.toggle('error', !!isError);
  }

  async function submit() {
    if (state.busy || !state.draft || $('task-view').hidden) return;
    const rest = unrankedIds();
    if (rest.length) {
      submitStatus(`Rank every response first (ties are fine): ${rest.map((id) => state.letters.get(id)).join(', ')} still unranked.`, true);
      focusCard(rest[0]);
      return;
    }
    state.draft.pending = { kind: 'submit', key: S.newIdempotencyKey(), body: JSON.stringify(buildSubmission()) };
    saveDraft();  // key and body are on disk before the first byte goes out
    await sendPending();
  }

  async function skip(reason, comment) {
    if (state.busy || !state.draft) return;
    const body = { reason };
    if (comment.trim()) body.comment = comment;
    state.draft.pending = { kind: 'skip', key: S.newIdempotencyKey(), body: JSON.stringify(body) };
    saveDraft();
    await sendPending();
  }

  async function sendPending() {
    const draft = state.draft;
    const kind = draft.pending.kind;
    state.busy = true;
    render();
    submitStatus(kind === 'skip' ? 'Skipping…' : 'Sending…');
    setSync('Sending…');
    const { outcome, r } = await S.deliver(draft, (attempt, resp) => {
      submitStatus(retryText(attempt, resp), true);
      setSync('Offline: answer kept on this device', true);
    });
    if (draft !== state.draft) return;  // the view moved on meanwhile (e.g. signed out)
    await afterDelivery(draft, outcome, r, kind);
  }

  async function afterDelivery(draft, outcome, r, kind) {
    if (outcome === 'saved') {
      dropDraft(draft.assignmentId);
      setSync(kind === 'skip' ? 'Skipped' : 'Saved on the server ✓');
      submitStatus('');
      await refreshMe();
      await loadNext();
    } else if (outcome === 'gone') {
      dropDraft(draft.assignmentId);
      setSync(`This task was already closed (${errorCode(r) || 'not found'}); moving on`, true);
      await loadNext();
    } else if (outcome === 'auth') {
      // Keep the pending answer: it is resent after signing in again.
      showLogin('Your session ended. Sign in again: your answer is kept and will be sent.');
    } else {
      // The server refused this answer (4xx): let the labeler fix it; a new key on the next try.
      draft.pending = null;
      saveDraft();
      state.busy = false;
      render();
      submitStatus(`The server did not accept this answer: ${errorMessage(r)}`, true);
      setSync('Draft saved on this device');
    }
  }

  // Before asking for new work, deliver every answer that a previous page left pending.
  async function flushPending() {
    for (const draft of S.listDrafts(state.me.name)) {
      if (!draft.pending) {
        if (Date.now() - draft.savedAt > DRAFT_MAX_AGE_MS) dropDraft(draft.assignmentId);
        continue;
      }
      setLoading('Sending an answer saved on this device…');
      const { outcome, r } = await S.deliver(draft, (attempt, resp) => {
        setLoading(retryText(attempt, resp));
        setSync('Offline: answer kept on this device', true);
      });
      if (outcome === 'auth') return false;
      if (outcome === 'rejected') {
        // Back to an editable draft; the labeler sees it again if the task is still open.
        draft.pending = null;
        try { S.writeDraft(state.me.name, draft); } catch (e) { /* the answer stays pending-free in memory */ }
        setSync(`A saved answer was not accepted: ${errorMessage(r)}`, true);
      } else {
        dropDraft(draft.assignmentId);
        setSync(outcome === 'saved' ? 'Saved on the server ✓' : 'A saved answer was for a closed task', outcome !== 'saved');
      }
    }
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Session flow
  // ---------------------------------------------------------------------------------------------

  function waitingText(what) {
    return (attempt, r) => setLoading(`${what}: ${r ? `server error ${r.status}` : 'server unreachable'}, retrying…`);
  }

  async function refreshMe() {
    try {
      const r = await api('GET', '/me');
      if (r.status === 200) { state.me = r.data; renderProgress(); }
    } catch (e) { /* progress is cosmetic */ }
  }

  async function loadNext() {
    setLoading('Loading the next task…');
    const r = await apiPatient('POST', '/tasks/next', { body: {} }, waitingText('Loading the next task'));
    if (r.status === 401) return showLogin();
    if (r.status !== 200) return showMessage(`Could not load a task: ${errorMessage(r)}`);
    if (!r.data.assignment) {
      state.assignment = null;
      state.draft = null;
      return showMessage('No tasks left for you right now. Thank you!');
    }
    showAssignment(r.data.assignment);
  }

  function showMessage(text) {
    $('message-text').textContent = text;
    showView('message');
  }

  function showLogin(reason) {
    state.busy = false;
    state.me = null;
    renderProgress();
    $('logout-btn').hidden = true;
    $('login-error').textContent = reason || '';
    showView('login');
    $('token').focus();
  }

  async function start() {
    setLoading('Loading…');
    const me = await apiPatient('GET', '/me', {}, waitingText('Connecting'));
    if (me.status === 401) return showLogin();
    if (me.status !== 200) return showMessage(`Could not start: ${errorMessage(me)}`);
    state.me = me.data;
    renderProgress();
    const opts = await apiPatient('GET', '/options', {}, waitingText('Loading options'));
    if (opts.status !== 200) return showMessage(`Could not load options: ${errorMessage(opts)}`);
    state.options = opts.data;
    fillSkipReasons();
    if (!(await flushPending())) return showLogin('Your session ended. Sign in again: your answer is kept.');
    await loadNext();
  }

  async function login(token) {
    $('login-error').textContent = '';
    let r = null;
    try { r = await api('POST', '/login', { body: { token } }); } catch (e) { r = null; }
    if (!r) { $('login-error').textContent = 'No connection to the server; try again.'; return; }
    if (r.status !== 200) {
      $('login-error').textContent = r.status === 401 ? 'Unknown or revoked token.' : errorMessage(r);
      return;
    }
    $('token').value = '';  // the cookie carries the session from here on; forget the token
    await start();
  }

  async function logout() {
    try { await api('POST', '/logout'); } catch (e) { /* the cookie expires anyway */ }
    state.assignment = null;
    state.draft = null;
    showLogin();
  }

  // ---------------------------------------------------------------------------------------------
  // Skip dialog
  // ---------------------------------------------------------------------------------------------

  function fillSkipReasons() {
    const box = $('skip-reasons');
    box.querySelectorAll('label').forEach((n) => n.remove());
    for (const reason of state.options.skip_reasons) {
      const label = el('label', 'skip-reason');
      const input = el('input');
      input.type = 'radio';
      input.name = 'skip-reason';
      input.value = reason.code;
      input.required = true;
      label.append(input, el('span', null, reason.label));
      box.append(label);
    }
  }

  function openSkip() {
    if (state.busy || !state.draft) return;
    $('skip-form').reset();
    $('skip-dialog').showModal();
  }

  // ---------------------------------------------------------------------------------------------
  // Keyboard
  // ---------------------------------------------------------------------------------------------

  function isTyping(target) {
    if (!target || !target.closest) return false;
    if (target.closest('textarea')) return true;
    const input = target.closest('input');
    return !!input && !['radio', 'checkbox', 'button', 'submit'].includes(input.type);
  }

  function onCardKey(e, card) {
    const id = Number(card.dataset.id);
    const order = displayOrder();
    const pos = order.indexOf(id);
    const tiers = state.draft.tiers;
    const key = e.key;

    if (e.shiftKey && (key === 'ArrowUp' || key === 'ArrowLeft')) {
      setTiers(moveUp(tiers, id), id);
    } else if (e.shiftKey && (key === 'ArrowDown' || key === 'ArrowRight')) {
      setTiers(moveDown(tiers, id), id);
    } else if (key === 'ArrowUp' || key === 'ArrowLeft') {
      e.preventDefault();  // focus moves instead of the page scrolling
      if (pos > 0) focusCard(order[pos - 1]);
      return;
    } else if (key === 'ArrowDown' || key === 'ArrowRight') {
      e.preventDefault();
      if (pos < order.length - 1) focusCard(order[pos + 1]);
      return;
    } else if (/^[1-9]$/.test(key)) {
      setTiers(putInTier(tiers, id, Number(key) - 1), id);
    } else if (key === '=') {
      if (pos <= 0) return;
      const above = tierOf(tiers, order[pos - 1]);
      if (above < 0) { announce('Rank the card above first'); return; }
      setTiers(putInTier(tiers, id, above), id);
    } else if (key === '0' || key === 'Delete' || key === 'Backspace') {
      setTiers(unrank(tiers, id), id);
    } else if (key === 'Enter') {
      if (tierOf(tiers, id) < 0) setTiers(insertTier(tiers, id, tiers.length), id);
    } else if (key === 'r' || key === 'R') {
      const details = card.querySelector('.annot');
      details.open = !details.open;
    } else {
      return;
    }
    e.preventDefault();
    focusCard(id);  // the card keeps the focus wherever it moved to
  }

  function onKeyDown(e) {
    // Ctrl+Enter submits from anywhere on the task, the comment box included.
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      if (document.querySelector('dialog[open]')) return;
      e.preventDefault();
      submit();
      return;
    }
    if (document.querySelector('dialog[open]') || isTyping(e.target)) return;
    if ($('task-view').hidden) {
      if (e.key === '?') { e.preventDefault(); $('help-dialog').showModal(); }
      return;
    }
    if (e.key === '?') { e.preventDefault(); $('help-dialog').showModal(); return; }
    if (((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === 'z') ||
        ((e.key === 'u' || e.key === 'U') && !e.ctrlKey && !e.metaKey && !e.altKey)) {
      e.preventDefault();
      undo();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const card = e.target.classList && e.target.classList.contains('card') ? e.target : null;
    if (card && !state.busy) onCardKey(e, card);
  }

  // ---------------------------------------------------------------------------------------------
  // Wiring
  // ---------------------------------------------------------------------------------------------

  // A card released over a drop zone (drag.js): a gap makes a new rank there, a rank means a tie,
  // the pool means "not ranked yet".
  function onDrop(card, zone) {
    const id = Number(card.dataset.id);
    const tiers = state.draft.tiers;
    if (zone.dataset.gap !== undefined) setTiers(insertTier(tiers, id, Number(zone.dataset.gap)), id);
    else if (zone.dataset.tier !== undefined) setTiers(putInTier(tiers, id, Number(zone.dataset.tier)), id);
    else if (zone.dataset.pool !== undefined) setTiers(unrank(tiers, id), id);
    focusCard(id);
  }

  function onBoardClick(e) {
    const button = e.target.closest('button');
    const card = e.target.closest('.card');
    if (!button || !card || state.busy) return;
    const id = Number(card.dataset.id);
    const tiers = state.draft.tiers;
    if (button.classList.contains('rank-next')) {
      setTiers(insertTier(tiers, id, tiers.length), id);
    } else if (button.classList.contains('unrank')) {
      setTiers(unrank(tiers, id), id);
    } else if (button.classList.contains('tie-up')) {
      const order = displayOrder();
      const above = order[order.indexOf(id) - 1];
      if (above !== undefined && tierOf(tiers, above) >= 0) setTiers(putInTier(tiers, id, tierOf(tiers, above)), id);
    } else {
      return;
    }
    focusCard(id);
  }

  function init() {
    document.addEventListener('keydown', onKeyDown);
    const board = $('board');
    board.addEventListener('click', onBoardClick);
    window.RlhfDrag.enableDrag(board, {
      canStart: () => !state.busy,
      ghost: (card) => {
        const g = el('div');
        g.append(el('span', 'letter', state.letters.get(Number(card.dataset.id))));
        const text = card.querySelector('.card-text').textContent;
        g.append(el('span', 'ghost-text', text.length > 80 ? `${text.slice(0, 80)}…` : text));
        return g;
      },
      drop: onDrop,
    });

    $('comment').addEventListener('input', () => {
      if (!state.draft || state.busy) return;
      state.draft.comment = $('comment').value;
      saveDraft();
    });
    $('undo-btn').addEventListener('click', undo);
    $('submit-btn').addEventListener('click', submit);
    $('skip-btn').addEventListener('click', openSkip);
    $('help-btn').addEventListener('click', () => $('help-dialog').showModal());
    $('logout-btn').addEventListener('click', logout);
    $('check-again-btn').addEventListener('click', () => loadNext());
    $('login-form').addEventListener('submit', (e) => {
      e.preventDefault();
      login($('token').value.trim());
    });
    $('skip-dialog').addEventListener('close', () => {
      if ($('skip-dialog').returnValue !== 'skip') return;
      const chosen = document.querySelector('input[name="skip-reason"]:checked');
      if (chosen) skip(chosen.value, $('skip-comment').value);
    });

    start();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
