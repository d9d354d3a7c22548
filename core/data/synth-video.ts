/**
 * @file Synthetic SMP-Video dataset in the real jsonl layout (no video files; `video_path`
 * points where they would be), with a planted, documented signal; deterministic by seed.
 *
 * Layout written (REFERENCE.md): <out>/train/SMP-Video_anonymized_{posts,users,videos}_train.jsonl,
 * <out>/train/SMP-Video_anonymized_popularity_train.jsonl, <out>/test/..._test.jsonl (no
 * popularity). Posts are split by time (the newest `testFraction` are test). The videos file is
 * written in another order than the posts file (join on pid); the users file of each split
 * lists every user of that split once, and repeats about 4% of them as identical duplicate
 * rows, as the real test file does.
 *
 * Planted signal (label range clipped to [1.2, 13.4], train mean ~8.3):
 *
 *   popularity = 2.8
 *              + 0.55 * log1p(user_follower_count)   user base popularity (follower counts are
 *                                                    drawn from a per-user latent, with noise)
 *              + 0.6 * cos(2 pi (hour_utc - 19) / 24)  hour of day of post_time
 *              + 0.05 * number of tags (comma-separated post_content, 0..30)
 *              - 0.4 * log(video_duration / 30)      shorter videos do better
 *              + 0.4 if music_title is "original sound"
 *              + topic effect (see TOPICS), -0.5 .. +0.6; the topic is visible as a hashtag
 *                (when the post has tags) and in post_suggested_words
 *              - 1.2 * (post_time - first) / (last - first)   post age: newer posts score lower
 *              + N(0, 0.6)
 *
 * @example
 *   await synthVideo({ out: 'data/video-sample', posts: 1500, seed: 1 }); // {train: 1000, test: 500}
 */

import { join } from 'node:path';
import { Random } from '../random.ts';
import { cumulative, drawWeighted, fmt, formatMinuteUtc, writeFileAtomic } from './synth-common.ts';

export interface SynthVideoOptions {
  out: string;
  /** total posts, train + test */
  posts: number;
  seed: number;
  /** share of the newest posts that go to test (default 1/3, as 2,000 of 6,000 in the real data) */
  testFraction?: number;
}

const T0 = Date.UTC(2022, 0, 1) / 1000;
const SPAN = 730 * 86400; // 2022-01-01 .. 2023-12-31

export const TOPICS: { tag: string; effect: number; words: string[] }[] = [
  { tag: 'comedy', effect: 0.6, words: ['funny', 'prank', 'lol', 'skit'] },
  { tag: 'dance', effect: 0.4, words: ['dancechallenge', 'moves', 'trend', 'choreo'] },
  { tag: 'food', effect: 0.2, words: ['recipe', 'cooking', 'foodie', 'easyrecipe'] },
  { tag: 'pets', effect: 0.5, words: ['dog', 'cat', 'puppy', 'cuteanimals'] },
  { tag: 'beauty', effect: 0.1, words: ['makeup', 'skincare', 'grwm', 'tutorial'] },
  { tag: 'fitness', effect: 0.0, words: ['workout', 'gym', 'health', 'motivation'] },
  { tag: 'tech', effect: -0.3, words: ['gadgets', 'unboxing', 'review', 'iphone'] },
  { tag: 'finance', effect: -0.5, words: ['money', 'investing', 'crypto', 'tips'] },
  { tag: 'travel', effect: 0.2, words: ['wanderlust', 'vacation', 'beach', 'explore'] },
];
const GENERIC = ['fyp', 'foryou', 'viral', 'foryoupage', 'trending', 'tiktok', 'xyzbca', 'fy', 'explorepage'];
const LOCATIONS = ['US', 'US', 'US', 'GB', 'CA', 'AU', 'DE', 'FR', 'IN', 'BR', 'PH', 'NG'];
const LANGS = ['en', 'en', 'en', 'en', 'un', 'es', 'de', 'fr', 'pt'];
const SONGS = ['Poetic Justice - Instrumental', "It's A Wrap - Sped Up", 'Monkeys Spinning Monkeys', 'Aesthetic', 'Oh No', 'Originalton', 'Love You So', 'Snowfall'];
const HOUR_WEIGHTS = [3, 3, 2, 2, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 5, 5, 6, 6, 6, 5, 4, 3];

const id = (prefix: string, k: number): string => `${prefix}${String(k).padStart(8, '0')}`;

export async function synthVideo(opts: SynthVideoOptions): Promise<{ train: number; test: number }> {
  const { out, posts: nPosts, seed } = opts;
  const testFraction = opts.testFraction ?? 1 / 3;
  if (!Number.isInteger(nPosts) || nPosts < 2) throw new Error(`synthVideo: posts must be an integer >= 2, got ${nPosts}`);
  if (!(testFraction > 0 && testFraction < 1)) throw new Error(`synthVideo: testFraction must be in (0, 1), got ${testFraction}`);
  const rng = new Random(seed);

  // users
  const urng = rng.fork('users');
  const nUsers = Math.max(3, Math.round(nPosts * 0.75));
  const users = Array.from({ length: nUsers }, (_, k) => {
    const latent = urng.normal();
    const followers = Math.round(Math.exp(9 + 2.4 * latent + 0.5 * urng.normal()));
    const likes = Math.round(followers * Math.exp(2 + urng.normal()));
    return {
      uid: id('USER', 1 + k * 2 + urng.int(2)),
      user_following_count: Math.round(Math.exp(4 + 1.5 * urng.normal())),
      user_follower_count: followers,
      user_likes_count: likes,
      user_video_count: Math.max(1, Math.round(Math.exp(5 + urng.normal()))),
      user_digg_count: Math.round(Math.exp(6 + 2 * urng.normal())),
      user_heart_count: likes,
      user_friend_count: urng.next() < 0.9 ? 0 : urng.int(50),
    };
  });
  const userCum = cumulative(users.map((_, i) => 1 / Math.pow(i + 1, 0.35)));

  // posts in time order
  const prng = rng.fork('posts');
  const hourCum = cumulative(HOUR_WEIGHTS);
  const times: number[] = [];
  for (let i = 0; i < nPosts; i++) {
    const day = Math.floor(prng.next() * (SPAN / 86400));
    times.push(T0 + day * 86400 + drawWeighted(hourCum, prng.next()) * 3600 + prng.int(60) * 60);
  }
  times.sort((a, b) => a - b);
  const tMin = times[0];
  const tMax = times[nPosts - 1];
  const nTest = Math.max(1, Math.min(nPosts - 1, Math.round(nPosts * testFraction)));
  const nTrain = nPosts - nTest;

  const noise = rng.fork('label-noise');
  type P = { post: Record<string, unknown>; video: Record<string, unknown>; label: number; user: number; split: 'train' | 'test' };
  const all: P[] = [];
  for (let i = 0; i < nPosts; i++) {
    const user = drawWeighted(userCum, prng.next());
    const u = users[user];
    const topic = prng.int(TOPICS.length);
    const T = TOPICS[topic];
    const nTags = Math.floor(prng.next() * prng.next() * 31);
    const tags: string[] = [];
    if (nTags > 0) tags.push(T.tag);
    while (tags.length < nTags) tags.push(prng.next() < 0.6 ? prng.pick(T.words) : prng.pick(GENERIC));
    const words = prng.next() < 0.4 ? ['Watch', 'this', prng.pick(T.words)] : [];
    const content = [...words, ...tags].join(',');
    const duration = Math.max(5, Math.min(300, Math.round(Math.exp(3.3 + 0.8 * prng.normal()))));
    const original = prng.next() < 0.45;
    const split = i < nTrain ? 'train' : 'test';
    const pid = id('POST', 1 + i);
    const vid = id('VIDEO', 100 + i * 3 + prng.int(3));
    const hour = Math.floor((times[i] % 86400) / 3600);
    const label =
      2.8 +
      0.55 * Math.log1p(u.user_follower_count) +
      0.6 * Math.cos((2 * Math.PI * (hour - 19)) / 24) +
      0.05 * nTags -
      0.4 * Math.log(duration / 30) +
      (original ? 0.4 : 0) +
      T.effect -
      (1.2 * (times[i] - tMin)) / Math.max(1, tMax - tMin) +
      0.6 * noise.normal();
    const suggested = Array.from({ length: prng.int(11) }, () => prng.pick([...T.words, T.tag, `${T.tag} videos`, `best ${T.tag}`]));
    all.push({
      user,
      split,
      label: Math.max(1.22, Math.min(13.35, label)),
      post: {
        pid,
        uid: u.uid,
        post_content: content,
        post_location: prng.pick(LOCATIONS),
        post_suggested_words: suggested,
        post_text_language: prng.pick(LANGS),
        video_path: `${split}/${u.uid}/${vid}.mp4`,
        post_time: formatMinuteUtc(times[i]),
      },
      video: {
        vid,
        pid,
        uid: u.uid,
        video_height: prng.next() < 0.85 ? 1024 : 1016,
        video_width: 576,
        video_duration: duration,
        video_ratio: prng.next() < 0.9 ? '540p' : '720p',
        video_format: 'mp4',
        music_title: original ? 'original sound' : prng.pick(SONGS),
        music_duration: original ? duration : duration + prng.int(30),
      },
    });
  }

  const orng = rng.fork('order');
  const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
  for (const split of ['train', 'test'] as const) {
    const rows = orng.shuffle(all.filter((p) => p.split === split));
    const videos = orng.shuffle(rows.map((p) => p.video));
    const seen = new Set<number>();
    const userRows: Record<string, unknown>[] = [];
    for (const p of rows) {
      if (seen.has(p.user)) continue;
      seen.add(p.user);
      userRows.push(users[p.user]);
      if (orng.next() < 0.04) userRows.push(users[p.user]); // identical duplicate row
    }
    orng.shuffle(userRows);
    const f = (kind: string): string => join(out, split, `SMP-Video_anonymized_${kind}_${split}.jsonl`);
    await writeFileAtomic(f('posts'), jsonl(rows.map((p) => p.post)));
    await writeFileAtomic(f('videos'), jsonl(videos));
    await writeFileAtomic(f('users'), jsonl(userRows));
    if (split === 'train') {
      await writeFileAtomic(f('popularity'), jsonl(rows.map((p) => ({ pid: p.post.pid, uid: p.post.uid, popularity: Number(fmt(p.label, 2)) }))));
    }
  }
  await writeFileAtomic(join(out, 'README.md'), readme(nTrain, nTest, seed, nUsers));
  return { train: nTrain, test: nTest };
}

function readme(nTrain: number, nTest: number, seed: number, nUsers: number): string {
  return `# Synthetic SMP-Video dataset

Generated by smp-kit (\`core/data/synth-video.ts\`, seed ${seed}): ${nTrain} train and ${nTest} test
posts (up to ${nUsers} users), in the SMP-Video release layout (JSON lines). Not real data; no
video files are written (\`video_path\` says where they would be).

## Files

- \`train/SMP-Video_anonymized_posts_train.jsonl\`: pid, uid, post_content (comma-joined tags),
  post_location, post_suggested_words, post_text_language, video_path, post_time ("YYYY-MM-DD HH:MM", UTC)
- \`train/SMP-Video_anonymized_videos_train.jsonl\`: vid, pid, uid, video_height, video_width,
  video_duration, video_ratio, video_format, music_title, music_duration (in another order than the posts)
- \`train/SMP-Video_anonymized_users_train.jsonl\`: uid and user_*_count fields; about 4% of users
  appear twice as identical rows
- \`train/SMP-Video_anonymized_popularity_train.jsonl\`: pid, uid, popularity
- \`test/...\`: the same for the test posts, without popularity

Train and test are split by time: the test posts are the newest.

## Planted signal

\`\`\`
popularity = 2.8
           + 0.55 log1p(user_follower_count)        user base popularity
           + 0.6 cos(2 pi (hour - 19) / 24)          hour of day of post_time
           + 0.05 x number of tags in post_content
           - 0.4 log(video_duration / 30)            shorter is better
           + 0.4 if music_title is "original sound"
           + topic effect (topic visible as a hashtag and in post_suggested_words): ${TOPICS.map((t) => `${t.tag} ${t.effect >= 0 ? '+' : ''}${t.effect}`).join(', ')}
           - 1.2 x (post_time - first) / (last - first)   newer posts score lower
           + N(0, 0.6) noise, then clipped to [1.22, 13.35]
\`\`\`
`;
}
