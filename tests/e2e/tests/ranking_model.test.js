// The page's ranking model (labeling/page/ranking.js) on its own: fast, no browser, no server.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const R = require('../../../labeling/page/ranking.js');

test('putInTier: joins the shown rank, past the end starts a new last rank', () => {
  assert.deepEqual(R.putInTier([], 1, 0), [[1]]);
  assert.deepEqual(R.putInTier([[1]], 2, 5), [[1], [2]]);
  assert.deepEqual(R.putInTier([[1], [2]], 3, 1), [[1], [2, 3]]);
  // The index is the rank as shown before the move: 1 pressed "2" on itself joins 2.
  assert.deepEqual(R.putInTier([[1], [2]], 1, 1), [[2, 1]]);
  const tiers = [[1], [2]];
  assert.equal(R.putInTier(tiers, 2, 1), tiers, 'already there: unchanged');
});

test('insertTier: a new rank at a gap, never an empty rank left behind', () => {
  assert.deepEqual(R.insertTier([[1], [2]], 3, 0), [[3], [1], [2]]);
  assert.deepEqual(R.insertTier([[1], [2]], 1, 2), [[2], [1]]);
  assert.deepEqual(R.insertTier([[1], [2]], 1, 1), [[1], [2]]);
  assert.deepEqual(R.insertTier([[1, 2]], 2, 1), [[1], [2]]);
});

test('moveUp / moveDown: leave a tie, swap ranks, enter and leave the ranking', () => {
  assert.deepEqual(R.moveUp([[1], [2, 3]], 3), [[1], [3], [2]]);
  assert.deepEqual(R.moveUp([[1], [3], [2]], 3), [[3], [1], [2]]);
  assert.deepEqual(R.moveUp([[3], [1]], 3), [[3], [1]], 'the top stays the top');
  assert.deepEqual(R.moveUp([[1]], 9), [[1], [9]], 'unranked: becomes the last rank');
  assert.deepEqual(R.moveDown([[1, 2], [3]], 1), [[2], [1], [3]]);
  assert.deepEqual(R.moveDown([[1], [2, 3]], 1), [[2, 3], [1]]);
  assert.deepEqual(R.moveDown([[1], [2]], 2), [[1]], 'the last rank moves down out of the ranking');
  assert.deepEqual(R.moveDown([[1]], 9), [[1]], 'unranked: nothing below');
});

test('no function changes its input', () => {
  const tiers = [[1], [2, 3], [4]];
  const copy = JSON.stringify(tiers);
  R.putInTier(tiers, 4, 0); R.insertTier(tiers, 1, 3); R.unrank(tiers, 2);
  R.moveUp(tiers, 3); R.moveDown(tiers, 1); R.moveUp(tiers, 2); R.moveDown(tiers, 4);
  assert.equal(JSON.stringify(tiers), copy);
});

test('rankLabel', () => {
  assert.deepEqual([0, 1, 2, 3, 10, 11, 12, 20, 21, 101, 110].map(R.rankLabel),
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '102nd', '111th']);
});
