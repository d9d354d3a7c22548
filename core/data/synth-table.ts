/**
 * @file Synthetic stand-ins for the table track (`smp synth --track table --preset ...`), with a
 * planted, documented signal; deterministic by seed. The real data sets are not available here.
 * Preset `illustration` (two targets from an image column) lives in synth-illustration.ts.
 *
 * Preset `artwork`: the digital-artwork popularity study (REFERENCE.md, "Other
 * popularity-prediction systems"): 389 works, exactly the study's 17 attributes, label
 * `popularity` (0/1) and a `split` column (train / test, 70/30, stratified). Written:
 *   <out>/artwork.csv               id, the 17 attributes, popularity, split; test rows' popularity empty
 *   <out>/answers/test_labels.csv   id,popularity of the test rows (held back, for scoring)
 *   <out>/README.md                 the columns and the planted signal below
 *
 * Planted signal: popularity ~ Bernoulli(sigmoid(z)),
 *
 *   z = -0.35
 *     + 1.6 * (interactive_elements - 1.6)           0..4 interactive elements: the strongest
 *                                                      correlate, r about 0.56 with the label
 *     + 1.0 * (artist_experience - 8) / 6              years of experience (r about 0.21)
 *     + 1.1 if animated (animation_frames > 0), + 0.4 more at frame_rate >= 24
 *     - 0.6 * ((complexity_score - 6) / 2)^2           mid-high complexity does best (not linear)
 *     + 1.8 * (style effect + platform effect)         STYLES -0.5 .. +0.5, PLATFORMS -0.4 .. +0.4
 *     + 1.2 if ai_assisted on Instagram / Twitter, - 1.2 if ai_assisted on ArtStation / Behance
 *                                                      (an interaction: ai_assisted alone has r ~0)
 *     - 0.4 * text_elements
 *   and no effect at all: creation_time, creation_period, file_size, resolution, aspect_ratio,
 *   color_count, theme, creation_tool (noise columns, some correlated with the signal ones:
 *   file_size grows with animation_frames and resolution).
 * Measured on 100,000 rows: 43% positive, r(interactive_elements) 0.565, Bayes AUC of z
 * 0.918. pipelines/artwork-classify.yaml on seeds 1, 2, 3, 7, 11, 2025 scored test AUC
 * 0.81-0.92 (CV 0.82-0.90) on the 117 held-back rows.
 *
 * Preset `segments` (gated fusion; pipelines/gated-fusion-example.yaml): rows of three
 * modalities, a different one mattering in each segment. Written: <out>/segments.csv with id,
 * segment (photo / text / meta), visual v1..v8, textual t1..t8, metadata m1..m6, label `score`,
 * split (80/20); answers/test_labels.csv. Planted signal, noise N(0, 0.3^2):
 *
 *   score = 1.5 tanh(v1 + 0.8 v2) + 0.6 v3        in segment photo
 *         = 1.5 sin(1.5 t1) + 0.7 t2              in segment text
 *         = 1.2 |m1| - 0.96 + 0.6 m2              in segment meta
 *
 * every column N(0, 1) and independent of the segment; v4..v8, t3..t8, m3..m6 are noise. Each
 * modality is useless outside its segment, so a model must learn segment x modality; a gate
 * on the segment that picks one expert per segment is exactly the planted structure.
 *
 * Preset `sequence` (attention-lstm over user history; pipelines/user-history-example.yaml):
 * 150 users' posts over a year (rows / 150 posts each on average, more for some users).
 * Written: <out>/sequence.csv with id, user, posted_at (ISO time), x1..x4, label `score`, split
 * (a random 20% test); answers/test_labels.csv. Planted signal, per user in time order:
 *
 *   form_t = 0.85 form_{t-1} + 0.5 e_t,  form_0 ~ N(0, 1)      (a drifting user form)
 *   score_t = form_t + 0.8 x1_t + 0.5 tanh(2 x2_t) + 0.6 x1_{t-1} + N(0, 0.3^2)
 *
 * x1..x4 ~ N(0, 1) (x3, x4 noise). A post's own features explain part of the score; the user's
 * recent scores (which carry the form, recent ones more than old ones) and the previous post's
 * x1 explain most of the rest, and no column of the post itself carries them.
 *
 * @example
 *   await synthTable({ out: 'data/artwork', preset: 'artwork', seed: 2025 }); // {train: 272, test: 117}
 */
import { join } from 'node:path';
import { Random } from '../random.ts';
import { writeFileAtomic } from './synth-common.ts';
import { synthIllustration } from './synth-illustration.ts';

export const TABLE_PRESETS = ['artwork', 'segments', 'sequence', 'illustration'] as const;
export type TablePreset = (typeof TABLE_PRESETS)[number];

export interface SynthTableOptions {
  out: string;
  preset: TablePreset;
  seed: number;
  /** Rows, train + test (default: the study's 389; segments 3000; sequence 3000; illustration 600). */
  rows?: number;
}

export const ARTWORK_COLUMNS = [
  'id',
  'creation_time',
  'creation_period',
  'artist_experience',
  'ai_assisted',
  'file_size',
  'resolution',
  'aspect_ratio',
  'animation_frames',
  'frame_rate',
  'color_count',
  'complexity_score',
  'art_style',
  'theme',
  'text_elements',
  'interactive_elements',
  'creation_tool',
  'platform',
  'popularity',
  'split',
] as const;

const STYLES: Record<string, number> = { anime: 0.5, pixel: 0.4, cyberpunk: 0.3, fantasy: 0.15, surreal: 0, realism: -0.1, minimalist: -0.35, abstract: -0.5 };
const PLATFORMS: Record<string, number> = { Instagram: 0.4, Twitter: 0.2, Pixiv: 0.1, ArtStation: 0, DeviantArt: -0.2, Behance: -0.4 };
const THEMES = ['nature', 'portrait', 'urban', 'space', 'fantasy', 'animals', 'abstract'];
const TOOLS = ['Photoshop', 'Procreate', 'Blender', 'Krita', 'Illustrator', 'Aseprite', 'Midjourney'];
const PERIODS = ['night', 'morning', 'afternoon', 'evening']; // by 6-hour block of the UTC hour
const RESOLUTIONS: [string, number, number][] = [
  ['1920x1080', 1920, 1080],
  ['3840x2160', 3840, 2160],
  ['1080x1080', 1080, 1080],
  ['2048x2048', 2048, 2048],
  ['1080x1350', 1080, 1350],
  ['1280x720', 1280, 720],
];

export interface ArtworkRow {
  values: Record<(typeof ARTWORK_COLUMNS)[number], string | number>;
  z: number;
  label: number;
}

function pick<T>(rng: Random, list: readonly T[]): T {
  return list[rng.int(list.length)];
}

/** One work: its attributes, its planted logit and its drawn label. */
export function artworkRow(rng: Random, i: number): ArtworkRow {
  const t0 = Date.UTC(2019, 0, 1) / 1000;
  const created = t0 + Math.floor(rng.next() * 6 * 365 * 86400);
  const d = new Date(created * 1000);
  const period = PERIODS[Math.floor(d.getUTCHours() / 6)];
  const experience = Math.min(35, Math.max(0, Math.round(rng.normal() * 6 + 8)));
  const style = pick(rng, Object.keys(STYLES));
  const platform = pick(rng, Object.keys(PLATFORMS));
  const ai = rng.next() < 0.3 ? 1 : 0;
  const animated = rng.next() < 0.35;
  const frames = animated ? 8 + rng.int(233) : 0;
  const fps = animated ? pick(rng, [8, 12, 24, 30, 60]) : 0;
  const [res, w, h] = pick(rng, RESOLUTIONS);
  const interactive = Math.min(4, Math.floor(rng.next() * 5.6 * rng.next() ** 0.3));
  const complexity = Math.round(Math.min(10, Math.max(0, rng.normal() * 2 + 5.5)) * 100) / 100;
  const text = rng.next() < 0.4 ? 1 + rng.int(3) : 0;
  const fileSize = Math.round(((w * h) / 1e6) * (0.8 + rng.next()) * (animated ? 1 + frames / 40 : 1) * 100) / 100;
  const z =
    -0.35 +
    1.6 * (interactive - 1.6) +
    (1.0 * (experience - 8)) / 6 +
    (animated ? 1.1 + (fps >= 24 ? 0.4 : 0) : 0) -
    0.6 * ((complexity - 6) / 2) ** 2 +
    1.8 * (STYLES[style] + PLATFORMS[platform]) +
    (ai ? (platform === 'Instagram' || platform === 'Twitter' ? 1.2 : platform === 'ArtStation' || platform === 'Behance' ? -1.2 : 0) : 0) -
    0.4 * text;
  const label = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  const iso = d.toISOString().slice(0, 19).replace('T', ' ');
  return {
    z,
    label,
    values: {
      id: `art${String(i + 1).padStart(4, '0')}`,
      creation_time: iso,
      creation_period: period,
      artist_experience: experience,
      ai_assisted: ai,
      file_size: fileSize,
      resolution: res,
      aspect_ratio: Math.round((w / h) * 1000) / 1000,
      animation_frames: frames,
      frame_rate: fps,
      color_count: Math.round(2 ** (3 + rng.next() * 9)),
      complexity_score: complexity,
      art_style: style,
      theme: pick(rng, THEMES),
      text_elements: text,
      interactive_elements: interactive,
      creation_tool: pick(rng, TOOLS),
      platform,
      popularity: label,
      split: 'train',
    },
  };
}

/** Test rows: a stratified 30% (as the study's 70/30 split), drawn by seed. */
function splitRows(rng: Random, labels: readonly number[]): boolean[] {
  const test = new Array<boolean>(labels.length).fill(false);
  for (const cls of [0, 1]) {
    const rows = rng.shuffle(labels.flatMap((y, i) => (y === cls ? [i] : [])));
    rows.slice(0, Math.round(rows.length * 0.3)).forEach((i) => (test[i] = true));
  }
  return test;
}

function readme(rows: number, train: number, test: number, seed: number): string {
  return `# Synthetic digital-artwork popularity (smp synth --track table --preset artwork)

${rows} works (${train} train, ${test} test), seed ${seed}. A stand-in for the digital-artwork
study's data (not available here): the same 17 attributes, label \`popularity\` (0/1), and a
\`split\` column (train / test, 70/30 stratified). The test rows' popularity is empty in
artwork.csv; \`answers/test_labels.csv\` holds it for scoring.

Planted signal: popularity ~ Bernoulli(sigmoid(z)), z from interactive_elements (strongest,
|r| about 0.56 with the label), artist_experience, animation (frames, frame rate), complexity
(best at mid-high values), art_style, platform, ai_assisted x platform, text_elements. No
effect: creation_time, creation_period, file_size, resolution, aspect_ratio, color_count,
theme, creation_tool. Details: core/data/synth-table.ts.
`;
}

/** Writes <name>.csv (test rows' label empty), answers/test_labels.csv and README.md. */
async function writeTable(o: SynthTableOptions, columns: readonly string[], rows: Record<string, string | number>[], test: boolean[], label: string, readmeText: string): Promise<{ train: number; test: number }> {
  const lines = [columns.join(',')];
  const answers = [`id,${label}`];
  rows.forEach((r, i) => {
    lines.push(columns.map((c) => (c === label && test[i] ? '' : c === 'split' ? (test[i] ? 'test' : 'train') : r[c])).join(','));
    if (test[i]) answers.push(`${r.id},${r[label]}`);
  });
  const nTest = test.filter(Boolean).length;
  await writeFileAtomic(join(o.out, `${o.preset}.csv`), lines.join('\n') + '\n');
  await writeFileAtomic(join(o.out, 'answers', 'test_labels.csv'), answers.join('\n') + '\n');
  await writeFileAtomic(join(o.out, 'README.md'), readmeText);
  return { train: rows.length - nTest, test: nTest };
}

const round4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** Preset `segments`: the rows (id, segment, v1..v8, t1..t8, m1..m6, score) and their columns. */
export function segmentsRows(n: number, rng: Random): { columns: string[]; rows: Record<string, string | number>[] } {
  const names = (p: string, k: number) => Array.from({ length: k }, (_, i) => `${p}${i + 1}`);
  const [V, Tx, M] = [names('v', 8), names('t', 8), names('m', 6)];
  const SEGMENTS = ['photo', 'text', 'meta'];
  const rows = Array.from({ length: n }, (_, i) => {
    const r: Record<string, string | number> = { id: `s${String(i + 1).padStart(5, '0')}`, segment: SEGMENTS[rng.int(3)] };
    for (const c of [...V, ...Tx, ...M]) r[c] = round4(rng.normal());
    const x = (c: string) => r[c] as number;
    const signal = r.segment === 'photo' ? 1.5 * Math.tanh(x('v1') + 0.8 * x('v2')) + 0.6 * x('v3') : r.segment === 'text' ? 1.5 * Math.sin(1.5 * x('t1')) + 0.7 * x('t2') : 1.2 * Math.abs(x('m1')) - 0.96 + 0.6 * x('m2');
    r.score = round4(signal + 0.3 * rng.normal());
    return r;
  });
  return { columns: ['id', 'segment', ...V, ...Tx, ...M, 'score'], rows };
}

function synthSegments(o: SynthTableOptions): Promise<{ train: number; test: number }> {
  const n = o.rows ?? 3000;
  const rng = new Random(o.seed).fork('segments');
  const { columns, rows } = segmentsRows(n, rng);
  const test = rows.map(() => rng.next() < 0.2);
  const text = `# Synthetic segment-dependent modalities (smp synth --track table --preset segments)

${n} rows, seed ${o.seed}: segment (photo / text / meta), visual v1..v8, textual t1..t8, metadata
m1..m6 (all N(0, 1)), label \`score\`, split (a random 20% test; answers/test_labels.csv).
Planted signal: photo rows: 1.5 tanh(v1 + 0.8 v2) + 0.6 v3; text rows: 1.5 sin(1.5 t1) + 0.7 t2;
meta rows: 1.2 |m1| - 0.96 + 0.6 m2; plus N(0, 0.3^2) noise. Each modality matters in one segment
only. Details: core/data/synth-table.ts.
`;
  return writeTable(o, [...columns, 'split'], rows, test, 'score', text);
}

/** Preset `sequence`: posts of `users` users (id, user, posted_at, x1..x4, score), ids in shuffled order. */
export function sequenceRows(n: number, rng: Random, users = 150): Record<string, string | number>[] {
  // Posts per user: a skewed share of n (every user at least 2).
  const share = Array.from({ length: users }, () => 0.3 + rng.next() ** 2);
  const total = share.reduce((a, b) => a + b, 0);
  const counts = share.map((s) => Math.max(2, Math.floor((s / total) * n)));
  for (let u = 0, left = n - counts.reduce((a, b) => a + b, 0); left > 0; u = (u + 1) % users, left--) counts[u]++;
  const t0 = Date.UTC(2024, 0, 1) / 1000;
  const rows: Record<string, string | number>[] = [];
  counts.forEach((k, u) => {
    const times = Array.from({ length: k }, () => t0 + Math.floor(rng.next() * 365 * 86400)).sort((a, b) => a - b);
    let form = rng.normal();
    let prevX1 = 0;
    times.forEach((t, j) => {
      if (j > 0) form = 0.85 * form + 0.5 * rng.normal();
      const x = [rng.normal(), rng.normal(), rng.normal(), rng.normal()].map(round4);
      const score = form + 0.8 * x[0] + 0.5 * Math.tanh(2 * x[1]) + 0.6 * prevX1 + 0.3 * rng.normal();
      prevX1 = x[0];
      rows.push({ user: `u${String(u + 1).padStart(3, '0')}`, posted_at: new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' '), x1: x[0], x2: x[1], x3: x[2], x4: x[3], score: round4(score) });
    });
  });
  // Ids in a shuffled order, so row order says nothing about time or user.
  const order = rng.shuffle(rows.map((_, i) => i));
  return order.map((i, k) => ({ ...rows[i], id: `q${String(k + 1).padStart(5, '0')}` }));
}

function synthSequence(o: SynthTableOptions): Promise<{ train: number; test: number }> {
  const n = o.rows ?? 3000;
  const users = 150;
  const rng = new Random(o.seed).fork('sequence');
  const shuffled = sequenceRows(n, rng, users);
  const test = shuffled.map(() => rng.next() < 0.2);
  const text = `# Synthetic user histories (smp synth --track table --preset sequence)

${n} posts of ${users} users over 2024, seed ${o.seed}: user, posted_at, x1..x4 (N(0, 1)), label
\`score\`, split (a random 20% test; answers/test_labels.csv). Planted signal per user in time
order: form_t = 0.85 form_{t-1} + 0.5 e_t; score_t = form_t + 0.8 x1_t + 0.5 tanh(2 x2_t) +
0.6 x1_{t-1} + N(0, 0.3^2). The user's recent scores and previous post predict the next.
Details: core/data/synth-table.ts.
`;
  return writeTable(o, ['id', 'user', 'posted_at', 'x1', 'x2', 'x3', 'x4', 'score', 'split'], shuffled, test, 'score', text);
}

export async function synthTable(o: SynthTableOptions): Promise<{ train: number; test: number }> {
  if (o.preset === 'segments') return synthSegments(o);
  if (o.preset === 'sequence') return synthSequence(o);
  if (o.preset === 'illustration') return synthIllustration(o);
  const n = o.rows ?? 389;
  const rng = new Random(o.seed);
  const rowRng = rng.fork('rows');
  const rows = Array.from({ length: n }, (_, i) => artworkRow(rowRng, i));
  const test = splitRows(rng.fork('split'), rows.map((r) => r.label));
  const lines = [ARTWORK_COLUMNS.join(',')];
  const answers = ['id,popularity'];
  rows.forEach((r, i) => {
    const v = { ...r.values, split: test[i] ? 'test' : 'train', popularity: test[i] ? '' : r.label };
    lines.push(ARTWORK_COLUMNS.map((c) => v[c]).join(','));
    if (test[i]) answers.push(`${v.id},${r.label}`);
  });
  const nTest = test.filter(Boolean).length;
  await writeFileAtomic(join(o.out, 'artwork.csv'), lines.join('\n') + '\n');
  await writeFileAtomic(join(o.out, 'answers', 'test_labels.csv'), answers.join('\n') + '\n');
  await writeFileAtomic(join(o.out, 'README.md'), readme(n, n - nTest, nTest, o.seed));
  return { train: n - nTest, test: nTest };
}
