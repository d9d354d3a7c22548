/**
 * @file Preset `illustration` of `smp synth --track table`: a stand-in for the illustration-site
 * study (REFERENCE.md, "Other popularity-prediction systems"), which regresses log views and log
 * favourites from the image alone. Deterministic by seed. Written:
 *   <out>/illustrations.csv          id, image (relative path), log_views, log_favourites, split;
 *                                    test rows' labels empty
 *   <out>/images/<id>.jpg | .png     the images (gradients / shapes / noise, 64..160 px a side,
 *                                    about 10% PNG), rendered as the image track's (synth-image.ts)
 *   <out>/answers/test_labels.csv    id,log_views,log_favourites of the test rows (held back)
 *   <out>/README.md                  the columns and the planted signal below
 *
 * Planted signal, from each image's own pixels (brightness b = mean luma in [0, 1], measured
 * before encoding; colourfulness c = min(1, Hasler-Suesstrunk M / 100)):
 *
 *   log_views      = 6.0 + 2.0 * (b - 0.5) + 1.5 * c + N(0, 0.5)
 *   log_favourites = log_views - 3.0 + 1.5 * c - 2.0 * (b - 0.5) + N(0, 0.3)
 *
 * so the two targets correlate (favourites follow views) yet differ in what drives them:
 * brightness raises views and leaves favourites about flat (+2.0 - 2.0), colourfulness raises
 * favourites twice as much as views. Both are log(count + c)-scale values, as the study's.
 * Split: a random 25% of rows are test (`split` column).
 *
 * @example
 *   await synthIllustration({ out: 'data/illustration', seed: 2025, rows: 600 }); // {train: 450, test: 150}
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { Random } from '../random.ts';
import { COLOURS, imageStats, renderImage } from './synth-image.ts';
import { pool, writeFileAtomic } from './synth-common.ts';

export const ILLUSTRATION_COLUMNS = ['id', 'image', 'log_views', 'log_favourites', 'split'] as const;

/** The planted targets of an image with brightness b and capped colourfulness c, plus noise draws. */
export function illustrationTargets(b: number, c: number, e1: number, e2: number): { views: number; favourites: number } {
  const views = 6.0 + 2.0 * (b - 0.5) + 1.5 * c + 0.5 * e1;
  return { views, favourites: views - 3.0 + 1.5 * c - 2.0 * (b - 0.5) + 0.3 * e2 };
}

const KINDS = ['gradient', 'shapes', 'noise'] as const;

function readme(rows: number, train: number, test: number, seed: number): string {
  return `# Synthetic illustration popularity (smp synth --track table --preset illustration)

${rows} illustrations (${train} train, ${test} test), seed ${seed}. A stand-in for the
illustration-site study's data (not available here): one image per row and two targets,
\`log_views\` and \`log_favourites\` (log-scale counts). \`split\` says train / test (a random
25% test); the test rows' labels are empty in illustrations.csv and held back in
\`answers/test_labels.csv\`.

Planted signal (b: mean luma of the image in [0, 1]; c: min(1, Hasler-Suesstrunk
colourfulness / 100), both measured on the pixels before encoding):

    log_views      = 6.0 + 2.0 (b - 0.5) + 1.5 c + N(0, 0.5)
    log_favourites = log_views - 3.0 + 1.5 c - 2.0 (b - 0.5) + N(0, 0.3)

Brightness drives views and not favourites; colourfulness drives favourites more. Details:
core/data/synth-illustration.ts.
`;
}

export async function synthIllustration(o: { out: string; seed: number; rows?: number }): Promise<{ train: number; test: number }> {
  const n = o.rows ?? 600;
  if (!Number.isInteger(n) || n < 8) throw new Error(`synth illustration: rows must be an integer >= 8, got ${n}`);
  const rng = new Random(o.seed);
  const draw = rng.fork('images');
  const posts = Array.from({ length: n }, (_, i) => {
    const kind = draw.pick(KINDS);
    return {
      id: `ill${String(i + 1).padStart(5, '0')}`,
      colour: draw.int(COLOURS.length),
      kind,
      png: kind !== 'noise' && draw.next() < 0.14,
      w: 64 + draw.int(97),
      h: 64 + draw.int(97),
      imgSeed: draw.nextU32(),
      e1: draw.normal(),
      e2: draw.normal(),
    };
  });
  const testRows = new Set(rng.fork('split').shuffle(posts.map((_, i) => i)).slice(0, Math.round(n * 0.25)));
  const targets = new Array<{ views: number; favourites: number }>(n);
  await pool(n, 2, async (i) => {
    const p = posts[i];
    const px = renderImage(p);
    const { brightness, colourfulness } = imageStats(px);
    targets[i] = illustrationTargets(brightness, Math.min(1, colourfulness / 100), p.e1, p.e2);
    const img = sharp(px, { raw: { width: p.w, height: p.h, channels: 3 } });
    const buf = p.png ? await img.png({ compressionLevel: 6 }).toBuffer() : await img.jpeg({ quality: 85 }).toBuffer();
    await writeFileAtomic(join(o.out, 'images', `${p.id}.${p.png ? 'png' : 'jpg'}`), buf);
  });
  const f = (x: number) => x.toFixed(4);
  const lines = [ILLUSTRATION_COLUMNS.join(',')];
  const answers = ['id,log_views,log_favourites'];
  posts.forEach((p, i) => {
    const test = testRows.has(i);
    const t = targets[i];
    lines.push([p.id, `images/${p.id}.${p.png ? 'png' : 'jpg'}`, test ? '' : f(t.views), test ? '' : f(t.favourites), test ? 'test' : 'train'].join(','));
    if (test) answers.push(`${p.id},${f(t.views)},${f(t.favourites)}`);
  });
  await writeFileAtomic(join(o.out, 'illustrations.csv'), lines.join('\n') + '\n');
  await writeFileAtomic(join(o.out, 'answers', 'test_labels.csv'), answers.join('\n') + '\n');
  await writeFileAtomic(join(o.out, 'README.md'), readme(n, n - testRows.size, testRows.size, o.seed));
  return { train: n - testRows.size, test: testRows.size };
}
