/**
 * @file Runs once before the test files: clears test/.tmp, where tests write their datasets,
 * runs and screenshots, so it holds only the latest run's output for inspection.
 */
import fs from 'node:fs';
import path from 'node:path';

export default function setup(): void {
  fs.rmSync(path.join(new URL('.', import.meta.url).pathname, '.tmp'), { recursive: true, force: true });
}
