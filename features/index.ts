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
import { imageStats } from './image-stats.ts';
import { crossModal } from './cross-modal.ts';
import { kmeansFeature } from './kmeans.ts';
import { hclust } from './hclust.ts';
import { pca } from './pca.ts';
import { clipImage } from './clip-image.ts';
import { clipText } from './clip-text.ts';
import { textEmbedding } from './text-embedding.ts';
import { videoFrames } from './video-frames.ts';
import { tagStats } from './tag-stats.ts';
import { userActivity } from './user-activity.ts';
import { embeddings } from './embeddings.ts';
import { columns } from './columns.ts';
import { userHistory } from './user-history.ts';

export const features = createRegistry<FeatureDef>('feature', [
  metadata,
  time,
  user,
  textStats,
  tfidfSvd,
  userLabelStats,
  imageStats,
  crossModal,
  kmeansFeature,
  hclust,
  pca,
  clipImage,
  clipText,
  textEmbedding,
  videoFrames,
  tagStats,
  userActivity,
  embeddings,
  columns,
  userHistory,
] as FeatureDef[]);
