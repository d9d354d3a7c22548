/**
 * @file Synthetic SMPD image-track dataset in exactly the 2023+ release layout, with real image
 * files and a planted, documented signal, deterministic by seed (same seed => byte-identical
 * files). `smp synth --track image` and `npm start` (bundled sample) call it.
 *
 * Layout written (REFERENCE.md): <out>/train/train_{img_filepath.txt, label.txt, category.json,
 * text.json, temporalspatial_information.json, additional_information.json, user_data.json}
 * (user data columnar, user_description 399 floats / location_description 400 floats as
 * comma-separated strings), <out>/test/test_* (no label), images at <out>/<split>/<Uid>/<Pid>.jpg
 * (about 10% PNG, `.png`), 64..320 px per side, gradients / shapes / noise. The JSON files are
 * written in Pid order, not in image-list order, so readers must join on Pid as with the real
 * data. Train and test are split by time (the newest `testFraction` of posts are test).
 *
 * Planted signal (popularity = log-views-like score, train mean ~6.4):
 *
 *   label = 5.9
 *         + user base popularity      b_u ~ N(0, 2.0) per user; also visible, noisily, in
 *                                     photo_count, ispro and user_description[0]
 *                                     (= b_u / 2 + N(0, 1); dims 1..7 are user noise)
 *         + category effect           fixed per Category, -0.6 .. +0.7 (see CATEGORIES)
 *         + hour of day               0.5 * cos(2 pi (hour_utc - 20) / 24)  (evenings best)
 *         + tag count                 0.06 * number of tags (0..24)
 *         + image brightness          1.2 * (mean luma in [0,1] - 0.5)
 *         + image colourfulness       1.6 * min(1, Hasler-Suesstrunk M / 100)
 *         + title-image consistency   +0.5 if the title names the image's dominant colour,
 *                                     -0.3 if it names another colour, 0 if no colour word
 *         + post age                  -1.5 * (postdate - first date) / (last - first date)
 *                                     (newer posts had less time to collect views)
 *         + user drift (opt-in)       d_u * (age - 0.5), d_u ~ N(0, userDrift) per user, age as
 *                                     above: a user's level rises or falls over the 16 months
 *                                     (userDrift 0, the default, plants none)
 *         + noise                     N(0, 0.6), then clipped at 0
 *
 * Brightness and colourfulness are measured on the exact pixels encoded (before JPEG), so
 * image features can recover them. README.md in the output folder restates all this.
 *
 * @example
 *   await synthImage({ out: 'data/sample', posts: 4000, seed: 2025 }); // {train: 3000, test: 1000}
 */

import { join } from 'node:path';
import sharp from 'sharp';
import { writeNpyChunks } from '../cache/npy.ts';
import { Random } from '../random.ts';
import { cumulative, drawWeighted, fmt, openTextWriter, pool, writeFileAtomic, type TextWriter } from './synth-common.ts';

/** Post counts of the real SMPD image track (2023+ release). */
export const SMPD_SIZES = { train: 305_613, test: 180_581 } as const;

/** Embedding files `--no-images` can write: which planted latents each carries (see README). */
export const EMBEDDING_NAMES = ['image', 'text'] as const;
export interface EmbeddingSpec {
  name: (typeof EMBEDDING_NAMES)[number];
  dim: number;
}

export interface SynthImageOptions {
  out: string;
  /** total posts, train + test (the newest `testFraction` go to test); or give `train` and `test` */
  posts?: number;
  /** exact train / test post counts (both, instead of `posts`) */
  train?: number;
  test?: number;
  seed: number;
  /** share of the newest posts that go to test (default 0.25) */
  testFraction?: number;
  /** image encodes in flight (default 2) */
  concurrency?: number;
  /**
   * false: no image files; the label's image terms are replaced by hidden latent factors that
   * only the `embeddings` files carry (default true)
   */
  images?: boolean;
  /** precomputed-embedding files to write (needs images: false) */
  embeddings?: EmbeddingSpec[];
  /** share of posts absent from each embedding file (default 0.005) */
  missingShare?: number;
  /**
   * sd of each user's drift: the label gains d_u * (age - 0.5), d_u ~ N(0, userDrift), age 0..1
   * over the time span, so a user's popularity level changes over time (default 0: none)
   */
  userDrift?: number;
  /** progress lines (e.g. to stderr) */
  onProgress?: (message: string) => void;
}

const T0 = Date.UTC(2015, 0, 1) / 1000; // first post
const SPAN = 486 * 86400; // 16 months

/** Category -> effect, subcategories -> concepts. */
export const CATEGORIES: { name: string; effect: number; subs: Record<string, string[]> }[] = [
  { name: 'Fashion', effect: 0.5, subs: { Shoes: ['sneakers', 'heels'], Hairstyle: ['hairdo', 'braid'], Makeup: ['eyeliner', 'lipstick'] } },
  { name: 'Food', effect: 0.3, subs: { Dessert: ['cake', 'icecream'], Drinks: ['coffee', 'smoothie'], Dinner: ['pasta', 'steak'] } },
  { name: 'Travel&Active&Sports', effect: 0.1, subs: { Beach: ['surf', 'sunset'], Mountain: ['hiking', 'snow'] } },
  { name: 'Entertainment', effect: 0.0, subs: { Books: ['bookworm', 'imagine'], Music: ['concert', 'guitar'], Movies: ['cinema', 'actress'] } },
  { name: 'Holiday&Celebrations', effect: 0.2, subs: { Christmas: ['christmastree', 'gift'], Halloween: ['pumpkin', 'costume'] } },
  { name: 'Social&People', effect: 0.7, subs: { Love: ['hugs', 'kiss'], Selfie: ['selfie', 'smile'], Party: ['friends', 'dance'] } },
  { name: 'Animal', effect: 0.4, subs: { Cat: ['kitten', 'lovecats'], Dog: ['puppy', 'lovedogs'] } },
  { name: 'Urban', effect: -0.3, subs: { Architecture: ['skyline', 'bridge'], Street: ['streetart', 'graffiti'] } },
  { name: 'Whether&Season', effect: -0.2, subs: { Rain: ['rainydays', 'umbrella'], Autumn: ['leaf', 'falltime'] } },
  { name: 'Electronics', effect: -0.6, subs: { Computer: ['laptops', 'keyboard'], Phone: ['smartphone', 'headphones'] } },
  { name: 'Family', effect: -0.1, subs: { Kids: ['child', 'toys'], Home: ['garden', 'kitchen'] } },
];

/** Named colours the images are built from (dominant colour) and titles mention. */
export const COLOURS: { name: string; rgb: [number, number, number] }[] = [
  { name: 'red', rgb: [220, 30, 30] },
  { name: 'orange', rgb: [240, 140, 20] },
  { name: 'yellow', rgb: [240, 220, 40] },
  { name: 'green', rgb: [40, 170, 60] },
  { name: 'blue', rgb: [30, 80, 220] },
  { name: 'purple', rgb: [130, 50, 180] },
  { name: 'pink', rgb: [240, 120, 180] },
  { name: 'brown', rgb: [120, 70, 30] },
  { name: 'black', rgb: [22, 22, 22] },
  { name: 'white', rgb: [240, 240, 240] },
  { name: 'gray', rgb: [128, 128, 128] },
];

const FILLER = ['today', 'moments', 'life', 'weekend', 'style', 'vibes', 'photo', 'day', 'love', 'new', 'best', 'my', 'the', 'city', 'home', 'summer', 'winter', 'spring'];
const TAG_VOCAB = [
  'instagood', 'photooftheday', 'beautiful', 'happy', 'cute', 'follow', 'picoftheday', 'art', 'nature', 'style', 'instadaily', 'friends',
  'fun', 'smile', 'food', 'travel', 'fashion', 'me', 'selfie', 'summer', 'girl', 'amazing', 'photography', 'love', 'igers', 'colorful',
  'light', 'portrait', 'street', 'life', 'weekend', 'tbt', 'nofilter', 'canon', 'nikon', 'iphone', 'sky', 'clouds', 'night', 'beach',
];
const TIMEZONES: [string, string][] = [
  ['-08:00', 'America/Los_Angeles'],
  ['-05:00', 'America/New_York'],
  ['+00:00', 'Europe/London'],
  ['+01:00', 'Europe/Berlin'],
  ['+05:30', 'Asia/Kolkata'],
  ['+08:00', 'Asia/Shanghai'],
  ['+09:00', 'Asia/Tokyo'],
  ['+10:00', 'Australia/Sydney'],
];
/** Posting-hour weights (UTC), more posts in the day and evening. */
const HOUR_WEIGHTS = [2, 1.5, 1, 1, 1, 1, 1.5, 2, 3, 4, 4, 4, 5, 5, 5, 5, 5, 6, 6, 6, 6, 5, 4, 3];

interface User {
  uid: string;
  base: number;
  photoCount: number;
  ispro: number;
  canbuypro: number;
  tz: [string, string];
  firstdate: number;
  firstdatetaken: number;
  desc: string;
  loc: string;
}

interface Post {
  user: number;
  pid: string;
  postdate: number;
  cat: number;
  sub: string;
  concept: string;
  title: string;
  tags: string[];
  colour: number;
  /** colour named in the title, -1 if none */
  titleColour: number;
  kind: 'gradient' | 'shapes' | 'noise';
  png: boolean;
  w: number;
  h: number;
  imgSeed: number;
  lat: string;
  lon: string;
  geo: string;
  pathalias: string;
  label: number;
  split: 'train' | 'test';
  path: string;
}

/** Hidden per-post factors of the no-images mode: only the embedding files carry them. */
interface Latents {
  /** visual appeal (linear) and visual "style" (quadratic), carried by the image embedding */
  a1: Float32Array;
  a2: Float32Array;
  /** textual appeal, carried by the text embedding */
  t1: Float32Array;
}

/** Sparse comma-separated vector: `dense` leading values, then mostly "0". */
function vectorString(rng: Random, dim: number, dense: number[], density: number): string {
  const parts: string[] = new Array(dim);
  for (let k = 0; k < dim; k++) {
    if (k < dense.length) parts[k] = fmt(dense[k], 4);
    else parts[k] = rng.next() < density ? fmt(rng.next() * 0.5, 3) : '0';
  }
  return parts.join(',');
}

function makeUsers(rng: Random, nUsers: number): User[] {
  const users: User[] = [];
  const seen = new Set<string>();
  for (let u = 0; u < nUsers; u++) {
    let uid: string;
    do uid = `${10000 + rng.int(90000)}@N${rng.int(100)}`;
    while (seen.has(uid));
    seen.add(uid);
    const base = 2.0 * rng.normal();
    const photoCount = Math.max(1, Math.round(Math.exp(5 + 0.8 * base + 0.8 * rng.normal())));
    const ispro = rng.next() < 1 / (1 + Math.exp(-(base - 1))) ? 1 : 0;
    const tz = rng.pick(TIMEZONES);
    const firstdate = T0 - Math.round((30 + rng.next() * 3000) * 86400);
    const latent = [0.5 * base + rng.normal(), ...Array.from({ length: 7 }, () => rng.normal())];
    const hasLoc = rng.next() < 0.55;
    users.push({
      uid,
      base,
      photoCount,
      ispro,
      canbuypro: ispro ? 0 : rng.next() < 0.8 ? 1 : 0,
      tz,
      firstdate,
      firstdatetaken: firstdate - Math.round(rng.next() * 400 * 86400),
      desc: vectorString(rng, 399, latent, 0.02),
      loc: hasLoc ? vectorString(rng, 400, Array.from({ length: 4 }, () => rng.normal()), 0.01) : '',
    });
  }
  return users;
}

/** Raw RGB pixels of a post's image. Deterministic from post.imgSeed. */
export function renderImage(post: Pick<Post, 'colour' | 'kind' | 'w' | 'h' | 'imgSeed'>): Uint8ClampedArray {
  const { w, h } = post;
  const rng = new Random(post.imgSeed);
  const [r0, g0, b0] = COLOURS[post.colour].rgb;
  const chromatic = post.colour < 8;
  // brightness and saturation vary per image
  const value = chromatic ? 0.45 + 0.55 * rng.next() : 0.85 + 0.15 * rng.next();
  const sat = chromatic ? 0.45 + 0.55 * rng.next() : 1;
  const tone = (r: number, g: number, b: number): [number, number, number] => {
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    return [(y + sat * (r - y)) * value, (y + sat * (g - y)) * value, (y + sat * (b - y)) * value];
  };
  const [r, g, b] = tone(r0, g0, b0);
  const px = new Uint8ClampedArray(w * h * 3); // clamps and rounds on write
  if (post.kind === 'gradient') {
    const angle = rng.next() * Math.PI * 2;
    const dx = Math.cos(angle) / w;
    const dy = Math.sin(angle) / h;
    const shade = 0.45 + 0.35 * rng.next(); // far end darker or lighter
    const light = rng.next() < 0.5;
    const k = 1 - shade;
    // colour at t = 0 and its change per unit t
    const [cr, cg, cb] = light ? [(255 - r) * k, (255 - g) * k, (255 - b) * k] : [-r * k, -g * k, -b * k];
    let o = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let t = x * dx + y * dy;
        if (t < 0) t = -t;
        if (t > 1) t = 1;
        px[o++] = r + cr * t;
        px[o++] = g + cg * t;
        px[o++] = b + cb * t;
      }
    }
  } else {
    // background: dominant colour, with noise for 'noise'
    const amp = post.kind === 'noise' ? 30 + 40 * rng.next() : 0;
    let s = rng.nextU32() | 1;
    let o = 0;
    for (let i = 0; i < w * h; i++) {
      if (amp > 0) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        const nz = ((s >>> 0) / 4294967296 - 0.5) * 2 * amp;
        px[o++] = r + nz;
        px[o++] = g + nz * 0.9;
        px[o++] = b + nz * 0.8;
      } else {
        px[o++] = r;
        px[o++] = g;
        px[o++] = b;
      }
    }
    if (post.kind === 'shapes') {
      // a few shapes of other colours, covering well under half of the image
      const nShapes = 1 + rng.int(4);
      for (let k = 0; k < nShapes; k++) {
        let other = rng.int(COLOURS.length);
        if (other === post.colour) other = (other + 1) % COLOURS.length;
        const [sr, sg, sb] = COLOURS[other].rgb;
        const cx = rng.next() * w;
        const cy = rng.next() * h;
        const rad = (0.08 + 0.12 * rng.next()) * Math.min(w, h);
        const circle = rng.next() < 0.5;
        const x0 = Math.max(0, Math.floor(cx - rad));
        const x1 = Math.min(w, Math.ceil(cx + rad));
        const y0 = Math.max(0, Math.floor(cy - rad));
        const y1 = Math.min(h, Math.ceil(cy + rad));
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) {
            if (circle && (x - cx) ** 2 + (y - cy) ** 2 > rad * rad) continue;
            const p = (y * w + x) * 3;
            px[p] = sr;
            px[p + 1] = sg;
            px[p + 2] = sb;
          }
        }
      }
    }
  }
  return px;
}

/** Mean luma in [0, 1] and Hasler-Suesstrunk colourfulness (0..~150) of RGB pixels. */
export function imageStats(px: Uint8Array | Uint8ClampedArray): { brightness: number; colourfulness: number } {
  const n = px.length / 3;
  let sy = 0;
  let srg = 0;
  let syb = 0;
  let srg2 = 0;
  let syb2 = 0;
  for (let i = 0; i < px.length; i += 3) {
    const r = px[i];
    const g = px[i + 1];
    const b = px[i + 2];
    sy += 0.299 * r + 0.587 * g + 0.114 * b;
    const rg = r - g;
    const yb = 0.5 * (r + g) - b;
    srg += rg;
    syb += yb;
    srg2 += rg * rg;
    syb2 += yb * yb;
  }
  const mrg = srg / n;
  const myb = syb / n;
  const vrg = Math.max(0, srg2 / n - mrg * mrg);
  const vyb = Math.max(0, syb2 / n - myb * myb);
  const colourfulness = Math.sqrt(vrg + vyb) + 0.3 * Math.sqrt(mrg * mrg + myb * myb);
  return { brightness: sy / n / 255, colourfulness };
}

/** Train/test counts from the options (posts + testFraction, or train + test). */
function splitSizes(opts: SynthImageOptions): { nTrain: number; nTest: number } {
  if (opts.train !== undefined || opts.test !== undefined) {
    const { train, test } = opts;
    if (opts.posts !== undefined) throw new Error('synthImage: give posts or train + test, not both');
    if (!Number.isInteger(train) || !Number.isInteger(test) || train! < 1 || test! < 1)
      throw new Error(`synthImage: train and test must both be integers >= 1, got ${train} and ${test}`);
    return { nTrain: train!, nTest: test! };
  }
  const nPosts = opts.posts;
  const testFraction = opts.testFraction ?? 0.25;
  if (!Number.isInteger(nPosts) || nPosts! < 2) throw new Error(`synthImage: posts must be an integer >= 2, got ${nPosts}`);
  if (!(testFraction > 0 && testFraction < 1)) throw new Error(`synthImage: testFraction must be in (0, 1), got ${testFraction}`);
  const nTest = Math.max(1, Math.min(nPosts! - 1, Math.round(nPosts! * testFraction)));
  return { nTrain: nPosts! - nTest, nTest };
}

export async function synthImage(opts: SynthImageOptions): Promise<{ train: number; test: number }> {
  const { out, seed } = opts;
  const images = opts.images ?? true;
  const embeddings = opts.embeddings ?? [];
  const missingShare = opts.missingShare ?? 0.005;
  const progress = opts.onProgress ?? ((): void => {});
  if (images && embeddings.length) throw new Error('synthImage: embeddings are written only without images (images: false)');
  for (const e of embeddings) {
    if (!(EMBEDDING_NAMES as readonly string[]).includes(e.name)) throw new Error(`synthImage: unknown embedding "${e.name}"; expected one of ${EMBEDDING_NAMES.join(', ')}`);
    if (!Number.isInteger(e.dim) || e.dim < 8) throw new Error(`synthImage: embedding ${e.name} needs an integer dimension >= 8, got ${e.dim}`);
  }
  if (new Set(embeddings.map((e) => e.name)).size !== embeddings.length) throw new Error('synthImage: an embedding is listed twice');
  if (!(missingShare >= 0 && missingShare < 1)) throw new Error(`synthImage: missingShare must be in [0, 1), got ${missingShare}`);
  const userDrift = opts.userDrift ?? 0;
  if (!(userDrift >= 0 && Number.isFinite(userDrift))) throw new Error(`synthImage: userDrift must be a finite number >= 0, got ${userDrift}`);
  const { nTrain, nTest } = splitSizes(opts);
  const nPosts = nTrain + nTest;
  const rng = new Random(seed);
  const users = makeUsers(rng.fork('users'), Math.max(3, Math.round(nPosts / 7)));
  // its own stream, so that userDrift 0 writes the same bytes as before the option existed
  const drng = rng.fork('user-drift');
  const drift = users.map(() => userDrift * drng.normal());
  // heavy-tailed posts per user
  const userCum = cumulative(users.map((_, i) => 1 / Math.pow(i + 1, 0.7)));
  const prng = rng.fork('posts');
  const hourCum = cumulative(HOUR_WEIGHTS);

  // post times, sorted: the split is by time
  const times = new Float64Array(nPosts);
  for (let i = 0; i < nPosts; i++) {
    const day = Math.floor(prng.next() * (SPAN / 86400));
    const hour = drawWeighted(hourCum, prng.next());
    times[i] = T0 + day * 86400 + hour * 3600 + prng.int(3600);
  }
  times.sort();
  const tMin = times[0];
  const tMax = times[nPosts - 1];

  const posts: Post[] = [];
  let pidNext = 100000 + prng.int(1000);
  for (let i = 0; i < nPosts; i++) {
    const user = drawWeighted(userCum, prng.next());
    const u = users[user];
    const postdate = times[i];
    pidNext += 1 + prng.int(5);
    const pid = String(pidNext);
    const cat = prng.int(CATEGORIES.length);
    const subs = Object.keys(CATEGORIES[cat].subs);
    const sub = prng.pick(subs);
    const concept = prng.pick(CATEGORIES[cat].subs[sub]);
    const colour = prng.int(COLOURS.length);
    const roll = prng.next();
    const titleColour = roll < 0.45 ? colour : roll < 0.7 ? (colour + 1 + prng.int(COLOURS.length - 1)) % COLOURS.length : -1;
    const words = [concept, prng.pick(FILLER)];
    if (titleColour >= 0) words.splice(prng.int(3), 0, COLOURS[titleColour].name);
    if (prng.next() < 0.5) words.push(prng.pick(FILLER));
    const nTags = Math.min(24, Math.floor(prng.next() * prng.next() * 25));
    const tags: string[] = [];
    if (nTags > 0) tags.push(concept);
    while (tags.length < nTags) tags.push(prng.pick(TAG_VOCAB));
    const kindRoll = prng.next();
    const kind = kindRoll < 0.4 ? 'gradient' : kindRoll < 0.75 ? 'shapes' : 'noise';
    const png = kind !== 'noise' && prng.next() < 0.14;
    const w = 64 + prng.int(257);
    const h = 64 + prng.int(257);
    const geo = prng.next() < 0.4;
    const split = i < nTrain ? 'train' : 'test';
    posts.push({
      user,
      pid,
      postdate,
      cat,
      sub,
      concept,
      title: words.join(' '),
      tags,
      colour,
      titleColour,
      kind,
      png,
      w,
      h,
      imgSeed: prng.nextU32(),
      lat: geo ? fmt(-60 + 120 * prng.next(), 6) : '0',
      lon: geo ? fmt(-180 + 360 * prng.next(), 6) : '0',
      geo: geo ? String(1 + prng.int(16)) : '0',
      pathalias: prng.next() < 0.5 ? 'None' : `${u.uid.split('@')[0]}alias`,
      label: 0,
      split,
      path: `${split}/${u.uid}/${pid}.${png ? 'png' : 'jpg'}`,
    });
  }
  progress(`${nPosts} posts from ${users.length} users`);

  // the label: shared terms, plus image statistics (images) or hidden latents (no images)
  const noise = rng.fork('label-noise');
  const noiseOf = posts.map(() => noise.normal());
  const shared = (p: Post, i: number): number => {
    const hour = Math.floor((p.postdate % 86400) / 3600);
    const age = (p.postdate - tMin) / Math.max(1, tMax - tMin);
    const trend = userDrift > 0 ? drift[p.user] * (age - 0.5) : 0;
    return users[p.user].base + trend + CATEGORIES[p.cat].effect + 0.5 * Math.cos((2 * Math.PI * (hour - 20)) / 24) + 0.06 * p.tags.length - 1.5 * age + 0.6 * noiseOf[i];
  };
  let latents: Latents | null = null;
  if (images) {
    // render, measure, encode (bounded concurrency), and the label from the stats
    await pool(posts.length, Math.max(1, opts.concurrency ?? 2), async (i) => {
      const p = posts[i];
      const px = renderImage(p);
      const { brightness, colourfulness } = imageStats(px);
      const score =
        5.9 +
        shared(p, i) +
        1.2 * (brightness - 0.5) +
        1.6 * Math.min(1, colourfulness / 100) +
        (p.titleColour < 0 ? 0 : p.titleColour === p.colour ? 0.5 : -0.3);
      p.label = Math.max(0, score);
      const img = sharp(px, { raw: { width: p.w, height: p.h, channels: 3 } });
      const buf = p.png ? await img.png({ compressionLevel: 6 }).toBuffer() : await img.jpeg({ quality: 85 }).toBuffer();
      await writeFileAtomic(join(out, p.path), buf);
    });
  } else {
    const lrng = rng.fork('latents');
    const lat: Latents = { a1: new Float32Array(nPosts), a2: new Float32Array(nPosts), t1: new Float32Array(nPosts) };
    for (let i = 0; i < nPosts; i++) {
      lat.a1[i] = lrng.normal();
      lat.a2[i] = lrng.normal();
      lat.t1[i] = lrng.normal();
    }
    posts.forEach((p, i) => {
      const score =
        6.5 +
        shared(p, i) +
        0.8 * lat.a1[i] +
        0.4 * (lat.a2[i] * lat.a2[i] - 1) +
        0.6 * lat.t1[i] +
        (p.titleColour < 0 ? 0 : p.titleColour === p.colour ? 0.5 : -0.3);
      p.label = Math.max(0, score);
    });
    latents = lat;
  }

  // row order of the image list: shuffled within each split (the real lists are not by time)
  const order = { train: [] as number[], test: [] as number[] };
  posts.forEach((p, i) => order[p.split].push(i));
  const orng = rng.fork('order');
  orng.shuffle(order.train);
  orng.shuffle(order.test);

  const uidJson = users.map((u) => JSON.stringify(u.uid));
  for (const split of ['train', 'test'] as const) {
    const rows = order[split].map((i) => posts[i]);
    // JSON files in Pid order (differs from the image list: join on Pid)
    const byPid = [...rows].sort((a, b) => Number(a.pid) - Number(b.pid));
    const dir = join(out, split);
    const P = (name: string): string => join(dir, `${split}_${name}`);
    const uidOf = (p: Post): string => users[p.user].uid;
    writeLines(P('img_filepath.txt'), rows, (p) => p.path);
    if (split === 'train') writeLines(P('label.txt'), rows, (p) => fmt(p.label, 4));
    // held-out answers, outside the test folder: a benchmark scores the submission with them
    else writeLines(join(out, 'answers', 'test_label.txt'), rows, (p) => fmt(p.label, 4));
    writeJsonArray(P('category.json'), byPid, (p) => ({ Uid: uidOf(p), Pid: p.pid, Category: CATEGORIES[p.cat].name, Subcategory: p.sub, Concept: p.concept }));
    writeJsonArray(P('text.json'), byPid, (p) => ({ Uid: uidOf(p), Pid: p.pid, Title: p.title, Mediatype: 'photo', Alltags: p.tags.join(' ') }));
    writeJsonArray(P('temporalspatial_information.json'), byPid, (p) => ({
      Uid: uidOf(p),
      Pid: p.pid,
      Postdate: String(p.postdate),
      Latitude: p.lat,
      Longitude: p.lon,
      Geoaccuracy: p.geo,
    }));
    writeJsonArray(P('additional_information.json'), byPid, (p) => ({ Uid: uidOf(p), Pid: p.pid, Pathalias: p.pathalias, Ispublic: '1', Mediastatus: 'ready' }));
    // columnar pandas JSON, one row per post; a user's vectors are quoted once, written per post
    const descJson = new Map<number, [string, string]>();
    const vecJson = (u: number): [string, string] => {
      let v = descJson.get(u);
      if (!v) descJson.set(u, (v = [JSON.stringify(users[u].desc), JSON.stringify(users[u].loc)]));
      return v;
    };
    const U = (p: Post): User => users[p.user];
    writeColumnar(P('user_data.json'), byPid, {
      Uid: (p) => uidJson[p.user],
      Pid: (p) => JSON.stringify(p.pid),
      photo_firstdate: (p) => JSON.stringify(String(U(p).firstdate)),
      photo_count: (p) => String(U(p).photoCount),
      ispro: (p) => String(U(p).ispro),
      canbuypro: (p) => String(U(p).canbuypro),
      timezone_offset: (p) => JSON.stringify(U(p).tz[0]),
      photo_firstdatetaken: (p) => JSON.stringify(String(U(p).firstdatetaken)),
      timezone_id: (p) => JSON.stringify(U(p).tz[1]),
      user_description: (p) => vecJson(p.user)[0],
      location_description: (p) => vecJson(p.user)[1],
    });
    progress(`${split}: ${rows.length} posts written`);
  }

  const written: { spec: EmbeddingSpec; rows: number; missing: number }[] = [];
  for (const spec of embeddings) {
    const r = writeEmbedding(out, spec, posts, latents!, rng, missingShare);
    written.push({ spec, ...r });
    progress(`embeddings/${spec.name}.npy: ${r.rows} x ${spec.dim} (${r.missing} posts absent)`);
  }
  await writeFileAtomic(join(out, 'README.md'), readme({ nTrain, nTest, seed, nUsers: new Set(posts.map((p) => p.user)).size, images, embeddings: written, userDrift }));
  return { train: nTrain, test: nTest };
}

/** One line per row, streamed. */
function writeLines<T>(file: string, rows: readonly T[], line: (row: T) => string): void {
  streamTo(file, (w) => {
    for (const r of rows) w.write(line(r) + '\n');
  });
}

/** A JSON array of records, streamed: the same bytes as JSON.stringify(rows.map(record)). */
function writeJsonArray<T>(file: string, rows: readonly T[], record: (row: T) => unknown): void {
  streamTo(file, (w) => {
    w.write('[');
    rows.forEach((r, k) => w.write((k ? ',' : '') + JSON.stringify(record(r))));
    w.write(']');
  });
}

/**
 * Columnar pandas JSON (`{"col": {"0": v, "1": v, ...}, ...}`), streamed column by column;
 * each column function returns its value already as JSON text.
 */
function writeColumnar<T>(file: string, rows: readonly T[], columns: Record<string, (row: T) => string>): void {
  streamTo(file, (w) => {
    w.write('{');
    Object.entries(columns).forEach(([name, value], c) => {
      w.write(`${c ? ',' : ''}${JSON.stringify(name)}:{`);
      rows.forEach((r, k) => w.write(`${k ? ',' : ''}"${k}":${value(r)}`));
      w.write('}');
    });
    w.write('}');
  });
}

function streamTo(file: string, body: (w: TextWriter) => void): void {
  const w = openTextWriter(file);
  try {
    body(w);
  } catch (e) {
    w.abort();
    throw e;
  }
  w.close();
}

/** `count` random unit vectors of `dim` (near-orthogonal for dim >> count). */
function directions(rng: Random, count: number, dim: number): Float64Array[] {
  return Array.from({ length: count }, () => {
    const v = new Float64Array(dim);
    let ss = 0;
    for (let j = 0; j < dim; j++) ss += (v[j] = rng.normal()) ** 2;
    const s = 1 / Math.sqrt(ss);
    for (let j = 0; j < dim; j++) v[j] *= s;
    return v;
  });
}

/** Embedding signal strengths (in units of the per-dimension noise sd), restated in the README. */
const EMB = { latent: 3, colour: 3, category: 2 };
const EMB_CHUNK_ROWS = 4096;

/**
 * Writes `embeddings/<name>.npy` (float32, rows in a shuffled order over train and test posts,
 * a `missingShare` of posts left out) and `embeddings/<name>.ids.txt` (one Pid per row).
 * Row = (sum of signal directions + N(0, 1) noise per dimension) / sqrt(dim).
 */
function writeEmbedding(out: string, spec: EmbeddingSpec, posts: readonly Post[], lat: Latents, rng: Random, missingShare: number): { rows: number; missing: number } {
  const { name, dim } = spec;
  const n = posts.length;
  const perm = rng.fork(`embedding-order-${name}`).shuffle(Array.from({ length: n }, (_, i) => i));
  const missing = Math.min(n - 1, Math.round(n * missingShare));
  const rows = perm.slice(missing); // the first `missing` of a random permutation are left out
  const drng = rng.fork(`embedding-directions-${name}`);
  const [dA, dB] = directions(drng, 2, dim);
  const colourDir = directions(drng, COLOURS.length, dim);
  const catDir = directions(drng, CATEGORIES.length, dim);
  const nrng = rng.fork(`embedding-noise-${name}`);
  const scale = 1 / Math.sqrt(dim);
  const dir = join(out, 'embeddings');
  writeLines(join(dir, `${name}.ids.txt`), rows, (i) => posts[i].pid);
  writeNpyChunks(join(dir, `${name}.npy`), rows.length, dim, (write) => {
    const chunk = new Float32Array(EMB_CHUNK_ROWS * dim);
    const row = new Float64Array(dim);
    const add = (v: Float64Array, c: number): void => {
      for (let j = 0; j < dim; j++) row[j] += c * v[j];
    };
    for (let start = 0; start < rows.length; start += EMB_CHUNK_ROWS) {
      const end = Math.min(rows.length, start + EMB_CHUNK_ROWS);
      for (let r = start; r < end; r++) {
        const i = rows[r];
        const p = posts[i];
        for (let j = 0; j < dim; j++) row[j] = nrng.normal();
        if (name === 'image') {
          add(dA, EMB.latent * lat.a1[i]);
          add(dB, EMB.latent * lat.a2[i]);
          add(colourDir[p.colour], EMB.colour);
        } else {
          add(dA, EMB.latent * lat.t1[i]);
          if (p.titleColour >= 0) add(colourDir[p.titleColour], EMB.colour);
        }
        add(catDir[p.cat], EMB.category);
        const o = (r - start) * dim;
        for (let j = 0; j < dim; j++) chunk[o + j] = row[j] * scale;
      }
      write(chunk.subarray(0, (end - start) * dim));
    }
  });
  return { rows: rows.length, missing };
}

interface ReadmeInfo {
  nTrain: number;
  nTest: number;
  seed: number;
  nUsers: number;
  images: boolean;
  embeddings: { spec: EmbeddingSpec; rows: number; missing: number }[];
  userDrift: number;
}

function readme(info: ReadmeInfo): string {
  const { nTrain, nTest, seed, nUsers, images, embeddings, userDrift } = info;
  const categories = CATEGORIES.map((c) => `${c.name} ${c.effect > 0 ? '+' : ''}${c.effect}`).join(', ');
  const imageFiles = images
    ? "- `<split>/<Uid>/<Pid>.jpg|.png`: the images (64..320 px; gradients, shapes, noise; ~10% PNG)\n"
    : '- no image files: the image lists name paths that do not exist (written with `--no-images`)\n';
  const embFiles = embeddings.length
    ? embeddings
        .map(
          ({ spec, rows, missing }) =>
            `- \`embeddings/${spec.name}.npy\`: float32 NumPy array, ${rows} x ${spec.dim}, rows in a shuffled order over train and test\n` +
            `  posts; \`embeddings/${spec.name}.ids.txt\`: the Pid of each row, one per line. ${missing} posts (${((100 * missing) / (nTrain + nTest)).toFixed(2)}%) are absent.\n`,
        )
        .join('')
    : '';
  const common = `      + b_u                         user base popularity, N(0, 2.0) per user; photo_count, ispro and
                                    user_description[0] (= b_u / 2 + N(0, 1)) carry it
      + category effect             ${categories}
      + 0.5 cos(2 pi (hour - 20) / 24)   hour of day of Postdate (UTC); evenings best
      + 0.06 x number of tags        (Alltags, 0..24 tags)${
        userDrift > 0
          ? `
      + d_u (age - 0.5)              user drift: d_u ~ N(0, ${userDrift}) per user, age = (Postdate - first) / (last - first);
                                    a user's level rises or falls over time (later posts differ from earlier ones)`
          : ''
      }`;
  const tail = `      - 1.5 x (Postdate - first) / (last - first)   newer posts score lower (less time online)
      + N(0, 0.6) noise, then clipped at 0`;
  const signal = images
    ? `\`\`\`
label = 5.9
${common}
      + 1.2 (brightness - 0.5)       mean luma of the image in [0, 1]
      + 1.6 min(1, M / 100)          colourfulness M (Hasler & Suesstrunk 2003) of the image
      + 0.5 if the title names the image's dominant colour, -0.3 if it names another colour
${tail}
\`\`\`

A model using user history, time, category, tag count, image statistics and title/image
colour agreement should reach a clearly positive Spearman correlation on held-out posts.`
    : `\`\`\`
label = 6.5
${common}
      + 0.8 a1 + 0.4 (a2^2 - 1)      hidden visual factors a1, a2 ~ N(0, 1) per post
      + 0.6 t1                       hidden textual factor t1 ~ N(0, 1) per post
      + 0.5 if the title names the post's (hidden) dominant colour, -0.3 if it names another
${tail}
\`\`\`

No metadata field reveals a1, a2, t1 or the dominant colour: only the embedding files carry them
(without \`--embeddings\` they act as noise). Each embedding row is

    x = (N(0, I) noise + signal) / sqrt(dim)

with unit directions drawn once per file (random, near-orthogonal), in noise-sd units:

- \`image\`: ${EMB.latent} a1 D_a + ${EMB.latent} a2 D_b + ${EMB.colour} C[dominant colour] + ${EMB.category} K[Category]
- \`text\`: ${EMB.latent} t1 D_a + ${EMB.colour} C[colour named in the title] (if any) + ${EMB.category} K[Category]

So the top principal components of an embedding span its latent and colour directions (PCA +
trees recover a1, a2^2 and t1), an MLP on the raw rows finds them directly, and k-means clusters
follow the dominant colour and the category. The two files have different dimensions and
directions: they are not one embedding space (cosine between an image row and a text row means
nothing).`;
  return `# Synthetic SMPD image-track dataset

Generated by smp-kit (\`core/data/synth-image.ts\`, seed ${seed}): ${nTrain} train and ${nTest} test
posts from ${nUsers} users, in the SMP Challenge 2023+ release layout. Not real data.

## Files

- \`train/train_img_filepath.txt\`: one image path per line (\`train/<Uid>/<Pid>.jpg\`); defines the row order
- \`train/train_label.txt\`: one popularity score per line, aligned with the image list
- \`train/train_category.json\`, \`train_text.json\`, \`train_temporalspatial_information.json\`,
  \`train_additional_information.json\`: JSON arrays of records keyed by Uid and Pid (stored in Pid
  order, not image-list order: join on Pid)
- \`train/train_user_data.json\`: columnar (pandas) JSON, one row per post; \`user_description\` is a
  comma-separated string of 399 floats, \`location_description\` of 400 floats ("" when absent)
- \`test/test_*\`: the same for the test posts, without labels
- \`answers/test_label.txt\`: the held-out test labels, one per line in test image-list order
  (outside \`test/\`: for scoring a submission, never for training)
${imageFiles}${embFiles}
Train and test are split by time: the test posts are the newest. Posts per user follow a power
law (user rank r gets a share proportional to r^-0.7).

## Planted signal

${signal}
`;
}
