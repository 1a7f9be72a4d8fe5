// The ranking model of the labeling page, as pure functions on tiers.
//
// tiers = [[ids of rank 1], [ids of rank 2], ...], best first; responses in the same tier are
// tied; a response in no tier is "not ranked yet". Every function returns new tiers (the input is
// never changed) with no empty tier left behind. Loaded by the page as a plain script
// (window.RlhfRanking) and by node for the unit test (module.exports).
'use strict';

(function (root) {
  function without(tiers, id) {
    return tiers.map((t) => t.filter((x) => x !== id));
  }

  const compact = (tiers) => tiers.filter((t) => t.length > 0);

  function tierOf(tiers, id) {
    return tiers.findIndex((t) => t.includes(id));
  }

  // Joins the tier shown as rank index+1 (a tie if it has cards); past the end: a new last tier.
  // The index refers to the tiers as shown before the move, which is what the labeler sees.
  function putInTier(tiers, id, index) {
    if (index < tiers.length && tiers[index].includes(id)) return tiers;
    const next = without(tiers, id);
    if (index < tiers.length) next[index].push(id);
    else next.push([id]);
    return compact(next);
  }

  // A new tier of its own, just above the tier now at gapIndex (gapIndex = tiers.length: last).
  function insertTier(tiers, id, gapIndex) {
    const next = without(tiers, id);
    next.splice(gapIndex, 0, [id]);
    return compact(next);
  }

  function unrank(tiers, id) {
    return compact(without(tiers, id));
  }

  // Shift+Up: leave a tie upwards, swap with the rank above, or (unranked) become the last rank.
  function moveUp(tiers, id) {
    const i = tierOf(tiers, id);
    if (i < 0) return insertTier(tiers, id, tiers.length);
    if (tiers[i].length > 1) return insertTier(tiers, id, i);
    if (i === 0) return tiers;
    const next = tiers.slice();
    [next[i - 1], next[i]] = [next[i], next[i - 1]];
    return next;
  }

  // Shift+Down: the mirror image; the last rank moves back to "not ranked yet".
  function moveDown(tiers, id) {
    const i = tierOf(tiers, id);
    if (i < 0) return tiers;
    if (tiers[i].length > 1) return insertTier(tiers, id, i + 1);
    if (i === tiers.length - 1) return unrank(tiers, id);
    const next = tiers.slice();
    [next[i + 1], next[i]] = [next[i], next[i + 1]];
    return next;
  }

  // 0 -> "1st", 1 -> "2nd", 10 -> "11th", 21 -> "22nd".
  function rankLabel(index) {
    const n = index + 1;
    const teen = n % 100 >= 11 && n % 100 <= 13;
    const suffix = teen ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] || 'th');
    return `${n}${suffix}`;
  }

  const Ranking = { compact, tierOf, putInTier, insertTier, unrank, moveUp, moveDown, rankLabel };
  if (typeof module === 'object' && module.exports) module.exports = Ranking;
  else root.RlhfRanking = Ranking;
})(globalThis);
