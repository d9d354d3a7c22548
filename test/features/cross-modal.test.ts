import { describe, expect, it } from 'vitest';
import { createMatrix, type Matrix } from '../../core/matrix.ts';
import { UserError } from '../../core/errors.ts';
import { crossModal } from '../../features/cross-modal.ts';
import { at, fakeContext, fakeTable } from './fake-context.ts';

/** An embedding block as the runner passes it: prefixed names, plus a missing flag column. */
function block(id: string, rows: number[][]): Matrix {
  const dim = rows[0].length;
  const names = [...Array.from({ length: dim }, (_, j) => `${id}.e${j}`), `${id}.missing`];
  const m = createMatrix(rows.length, dim + 1, names);
  rows.forEach((v, r) => {
    m.data.set(v, r * m.cols);
    m.data[r * m.cols + dim] = v.every((x) => x === 0) ? 1 : 0;
  });
  return m;
}

const e1 = [1, 0, 0];
const e2 = [0, 1, 0];
const e3 = [0, 0, 1];
const zero = [0, 0, 0];

// rows: 0-2 user a, 3 user b (alone), 4-5 user c (row 5 has no image)
const uid = ['a', 'a', 'a', 'b', 'c', 'c'];
const category = ['x', 'x', 'y', 'y', 'x', 'y'];
const image = block('img', [e1, e2, e2, e3, [2, 0, 0], zero]);
const title = block('tit', [e1, [0, 3, 0], [1, 1, 0], [0, 0, -1], e2, e1]);
const table = fakeTable({ n: 6, uid, columns: { category: { type: 'string', values: category } } });
const inputs = { img: image, tit: title };

describe('cross-modal', () => {
  const m = crossModal.compute(fakeContext(table, inputs), crossModal.params.parse({ image: 'img', title: 'tit' })) as Matrix;

  it('cosine of image and title per row: identical 1, orthogonal 0, opposite -1, missing NaN', () => {
    expect(at(m, 0, 'cos_image_title')).toBeCloseTo(1, 6);
    expect(at(m, 1, 'cos_image_title')).toBeCloseTo(1, 6); // same direction, other length
    expect(at(m, 2, 'cos_image_title')).toBeCloseTo(Math.SQRT1_2, 6);
    expect(at(m, 3, 'cos_image_title')).toBeCloseTo(-1, 6);
    expect(at(m, 4, 'cos_image_title')).toBeCloseTo(0, 6);
    expect(at(m, 5, 'cos_image_title')).toBeNaN();
  });

  it("user similarity leaves the row itself out", () => {
    // row 0 (e1): the user's other posts are e2, e2 -> orthogonal; with itself included it would be > 0
    expect(at(m, 0, 'image_user_loo_cos')).toBeCloseTo(0, 6);
    // row 1 (e2): others e1 + e2 -> cos 1/sqrt2
    expect(at(m, 1, 'image_user_loo_cos')).toBeCloseTo(Math.SQRT1_2, 6);
    expect(at(m, 3, 'image_user_loo_cos')).toBeNaN(); // only post of user b
    expect(at(m, 4, 'image_user_loo_cos')).toBeNaN(); // user c's other post has no image
    expect(at(m, 5, 'image_user_loo_cos')).toBeNaN(); // no image itself
  });

  it('category similarity leaves the row itself out and skips missing images', () => {
    // category x: rows 0 (e1), 1 (e2), 4 (e1 after normalising)
    expect(at(m, 0, 'image_category_loo_cos')).toBeCloseTo(Math.SQRT1_2, 6); // others e2 + e1
    expect(at(m, 1, 'image_category_loo_cos')).toBeCloseTo(0, 6); // others e1 + e1
    // category y: rows 2 (e2), 3 (e3), 5 (missing)
    expect(at(m, 2, 'image_category_loo_cos')).toBeCloseTo(0, 6);
    expect(at(m, 5, 'image_category_loo_cos')).toBeNaN();
  });

  it("user spread: mean distance of the user's unit embeddings to their mean", () => {
    // user a: e1, e2, e2 -> mean (1/3, 2/3, 0)
    const d1 = Math.hypot(2 / 3, 2 / 3);
    const d2 = Math.hypot(1 / 3, 1 / 3);
    for (const r of [0, 1, 2]) expect(at(m, r, 'image_user_spread')).toBeCloseTo((d1 + 2 * d2) / 3, 6);
    expect(at(m, 3, 'image_user_spread')).toBeNaN(); // one post: no spread
  });

  it('all three pairs with tags; group on title', () => {
    const tags = block('tag', [e1, e1, e1, e1, e1, e1]);
    const out = crossModal.compute(
      fakeContext(table, { ...inputs, tag: tags }),
      crossModal.params.parse({ image: 'img', title: 'tit', tags: 'tag', group: ['title'], category: null }),
    ) as Matrix;
    expect(out.names).toEqual(['cos_image_title', 'cos_image_tags', 'cos_title_tags', 'title_user_loo_cos', 'title_user_spread']);
    expect(at(out, 0, 'cos_title_tags')).toBeCloseTo(1, 6);
  });

  it('clear errors for blocks not in inputs, different spaces and an absent category column', () => {
    const ctx = fakeContext(table, inputs);
    expect(() => crossModal.compute(ctx, crossModal.params.parse({ image: 'nope' }))).toThrow(/not among this entry's inputs/);
    const wide = block('w', [[1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]]);
    expect(() => crossModal.compute(fakeContext(table, { img: image, w: wide }), crossModal.params.parse({ image: 'img', title: 'w' }))).toThrow(
      /not in one embedding space/,
    );
    expect(() => crossModal.compute(ctx, crossModal.params.parse({ image: 'img', category: 'concept' }))).toThrow(UserError);
  });
});
