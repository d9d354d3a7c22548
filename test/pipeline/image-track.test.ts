import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthImage } from '../../core/data/synth-image.ts';
import { runPipeline } from '../../core/pipeline/run.ts';
import { readDataset } from '../../core/data/read-dataset.ts';
import { validateSubmissionFile } from '../../core/submit/validate.ts';
import { buildTinyModels } from '../fixtures/tiny-models.ts';
import { REPO, tmpDir } from '../helpers.ts';

// pipelines/image-track.yaml as shipped, offline: tiny CLIP- and BERT-shaped ONNX models are
// built into a models folder under the real model ids, so the same loading code runs
// (AutoProcessor, CLIP vision/text towers, AutoTokenizer, feature-extraction). Only sizes are
// shrunk for a small dataset: cluster counts, PCA widths, epochs and trees.
describe('pipelines/image-track.yaml', () => {
  it('runs end to end on a small synthetic set with fixture models swapped in', async () => {
    const dir = tmpDir('image-track');
    const modelsDir = path.join(dir, 'models');
    buildTinyModels(modelsDir, { clip: 'Xenova/clip-vit-base-patch32', text: 'Xenova/all-MiniLM-L6-v2' });
    await synthImage({ out: path.join(dir, 'data'), posts: 320, seed: 21 });
    const set = [
      `models_dir=${modelsDir}`,
      'validation.folds=3',
      'features[4].params.components=4',
      'features[9].params.components=4',
      'features[13].params.components=4',
      'features[15].params.k=[3, 6]',
      'features[16].params={k: 8, levels: [2, 4]}',
      ...[0, 2, 4, 5].map((m) => `models[${m}].params.n_estimators=40`),
      ...[1, 3, 6].map((m) => `models[${m}].params.epochs=4`),
      'pseudo_labels.rounds=1',
    ];
    const r = await runPipeline(path.join(REPO, 'pipelines', 'image-track.yaml'), { workDir: dir, data: path.join(dir, 'data'), set, quiet: true });
    // Every tier reported, the stack scored, and a valid submission written.
    for (const id of ['gbdt_visual', 'mlp_visual', 'gbdt_textual', 'mlp_textual', 'gbdt_metadata', 'gbdt_crossmodal', 'mlp_crossmodal', 'final'])
      expect(r.metrics[id]?.src, id).toBeTypeOf('number');
    const ens = r.metrics.ensemble as unknown as { groups: { id: string }[] };
    expect(ens.groups.map((g) => g.id)).toEqual(['visual', 'textual', 'metadata', 'crossmodal']);
    expect(r.metrics.final.src!).toBeGreaterThan(0.3);
    const test = await readDataset(path.join(dir, 'data'), { splits: ['test'] });
    expect(await validateSubmissionFile(r.zipPath, 'image', test.pid)).toEqual([]);
  });
});
