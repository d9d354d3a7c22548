/**
 * @file Zips a submission for upload with jszip. Entry dates are fixed and compression is
 * deterministic, so the same submission always gives the same zip bytes.
 */
import fs from 'node:fs';
import JSZip from 'jszip';
import { writeFileAtomic } from '../cache/atomic.ts';

const FIXED_DATE = new Date(Date.UTC(2025, 0, 1, 0, 0, 0));

export async function zipFile(out: string, entryName: string, content: string): Promise<void> {
  const zip = new JSZip();
  zip.file(entryName, content, { date: FIXED_DATE, createFolders: false });
  const bytes = await zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE', compressionOptions: { level: 9 }, platform: 'UNIX' });
  writeFileAtomic(out, bytes);
}

/** The single submission entry of a zip: name and text. */
export async function readZipEntry(file: string): Promise<{ name: string; text: string }> {
  const zip = await JSZip.loadAsync(fs.readFileSync(file));
  const names = Object.keys(zip.files).filter((n) => !zip.files[n].dir);
  const entry = names.find((n) => /\.(json|csv)$/i.test(n));
  if (!entry) throw new Error(`${file}: no .json or .csv file inside (entries: ${names.join(', ') || 'none'})`);
  return { name: entry, text: await zip.files[entry].async('string') };
}
