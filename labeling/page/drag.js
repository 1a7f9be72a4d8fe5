// Drag and drop for the ranking board with pointer events: one code path for mouse, pen and
// touch (HTML5 drag and drop does not work on phones). Touch drags start only on a card's grip,
// so swiping elsewhere still scrolls the page. Drop zones are elements with class gap, tier or
// pool inside the board; the page decides what a drop means.
'use strict';

(function (root) {
  // board: the element holding cards and drop zones.
  // hooks.canStart(): false while the answer is frozen (being sent).
  // hooks.ghost(card): the small element that follows the pointer.
  // hooks.drop(card, zone): called once when a card is released over a zone.
  function enableDrag(board, hooks) {
    let drag = null;

    function zoneAt(x, y) {
      const hit = document.elementFromPoint(x, y);
      const zone = hit && hit.closest('.gap, .tier, .pool');
      return zone && board.contains(zone) ? zone : null;
    }

    function start() {
      drag.started = true;
      document.body.classList.add('dragging');
      drag.card.classList.add('drag-source');
      drag.ghost = hooks.ghost(drag.card);
      drag.ghost.classList.add('ghost');
      document.body.append(drag.ghost);
    }

    function finish(apply) {
      if (!drag) return;
      const { card, zone, started, ghost } = drag;
      drag = null;
      if (!started) return;  // a plain click: the card just takes the focus
      ghost.remove();
      card.classList.remove('drag-source');
      document.body.classList.remove('dragging');
      if (zone) zone.classList.remove('drop-target');
      if (apply && zone) hooks.drop(card, zone);
    }

    board.addEventListener('pointerdown', (e) => {
      if (!hooks.canStart() || e.button !== 0) return;
      const head = e.target.closest('.card-head');
      if (!head || e.target.closest('button')) return;
      if (e.pointerType !== 'mouse' && !e.target.closest('.grip')) return;
      drag = { card: head.closest('.card'), x: e.clientX, y: e.clientY, started: false, ghost: null, zone: null };
    });

    window.addEventListener('pointermove', (e) => {
      if (!drag) return;
      if (!drag.started) {
        if (Math.hypot(e.clientX - drag.x, e.clientY - drag.y) < 6) return;  // not a drag yet
        start();
      }
      e.preventDefault();
      // The CSP allows setting styles through the CSSOM, unlike style attributes in markup.
      drag.ghost.style.transform = `translate(${e.clientX + 12}px, ${e.clientY + 8}px)`;
      const zone = zoneAt(e.clientX, e.clientY);
      if (zone !== drag.zone) {
        if (drag.zone) drag.zone.classList.remove('drop-target');
        if (zone) zone.classList.add('drop-target');
        drag.zone = zone;
      }
      // Scroll when the pointer nears the window edge, so a far rank is reachable.
      const edge = 48;
      if (e.clientY < edge) window.scrollBy(0, -12);
      else if (e.clientY > window.innerHeight - edge) window.scrollBy(0, 12);
    }, { passive: false });

    window.addEventListener('pointerup', () => finish(true));
    window.addEventListener('pointercancel', () => finish(false));
    window.addEventListener('keydown', (e) => {
      if (drag && drag.started && e.key === 'Escape') { e.stopPropagation(); finish(false); }
    }, true);
  }

  root.RlhfDrag = { enableDrag };
})(globalThis);
