/**
 * @file The README.md that `smp export` writes beside the files: what each file holds, its
 * shape, and the pandas / numpy lines that load it.
 *
 * @example
 *   writeFileAtomic('out/README.md', exportReadme({ run, pipeline: 'demo', files, skipped, nTrain, nTest }));
 */

export interface ExportedFile {
  /** Path relative to the export folder. */
  file: string;
  what: string;
  rows: number;
  cols: number;
}

function loader(file: string): string {
  const py = (s: string) => JSON.stringify(s).replaceAll('"', "'");
  const base = file.replace(/\.(npy|parquet|csv|txt)$/, '');
  if (file.endsWith('.parquet')) return `pd.read_parquet(${py(file)})`;
  if (file.endsWith('.csv')) return `pd.read_csv(${py(file)}, dtype={'pid': str})`;
  if (file === 'ids.txt') return `ids = pd.read_csv('ids.txt', header=None, dtype=str)[0].to_numpy()`;
  if (file.endsWith('.npy')) {
    const ids = file.startsWith('blocks/') || file === 'features.npy' ? `ids` : `pd.read_csv(${py(`${base}.ids.txt`)}, header=None, dtype=str)[0]`;
    return `pd.DataFrame(np.load(${py(file)}), columns=open(${py(`${base}.columns.txt`)}).read().splitlines(), index=${ids})`;
  }
  return '';
}

export function exportReadme(o: { run: string; pipeline: string; files: readonly ExportedFile[]; skipped: readonly { id: string; why: string }[]; nTrain: number; nTest: number; targets?: readonly string[] }): string {
  const rows = o.files.map((f) => `| \`${f.file}\` | ${f.what} | ${f.rows} x ${f.cols} |`);
  const code = o.files.map((f) => loader(f.file)).filter(Boolean);
  return [
    `# Export of run ${o.pipeline}`,
    '',
    `From \`${o.run}\`: ${o.nTrain} train posts, then ${o.nTest} test posts. Post ids (\`pid\`) are strings.`,
    'Block values are float32 as the kit computed them (NaN where a value is missing); a block\'s `missing`',
    'column, when it has one, flags posts without usable input. `fold` is the validation fold of each',
    'train row (-1: never validated); an OOF prediction is NaN where its model never validated the row.',
    ...(o.targets?.length
      ? [`Targets ${o.targets.join(', ')}: the train and test tables carry \`label.<target>\`, \`<model>.<target>\` and \`final.<target>\` for each (\`fold.<target>\` when the targets' folds differ).`]
      : []),
    '',
    '| file | holds | rows x columns |',
    '| --- | --- | --- |',
    ...rows,
    '',
    ...(o.skipped.length ? ['Not exported:', '', ...o.skipped.map((s) => `- \`${s.id}\`: ${s.why}`), ''] : []),
    'Load with pandas and numpy (run in this folder):',
    '',
    '```python',
    'import numpy as np, pandas as pd',
    ...code,
    '```',
    '',
  ].join('\n');
}
