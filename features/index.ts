/**
 * @file The feature registry: every feature kind, by its pipeline `kind` name.
 */
import { createRegistry } from '../core/registry.ts';
import type { FeatureDef } from './feature.ts';
import { metadata } from './metadata.ts';
import { time } from './time.ts';
import { user } from './user.ts';
import { textStats } from './text-stats.ts';
import { tfidfSvd } from './tfidf-svd.ts';
import { userLabelStats } from './user-label-stats.ts';

export const features = createRegistry<FeatureDef>('feature', [metadata, time, user, textStats, tfidfSvd, userLabelStats] as FeatureDef[]);
