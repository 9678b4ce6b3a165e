/**
 * Writes a zip with `yazl`: entries sorted and dated 2000-01-01 so the same inputs give the same
 * bytes (a release can be rebuilt and compared by its checksum).
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';

export interface ZipEntry {
  /** Path inside the archive, `/`-separated. */
  readonly name: string;
  readonly source: { readonly file: string } | { readonly content: string };
}

const FIXED_MTIME = new Date(Date.UTC(2000, 0, 1));

export async function writeZip(path: string, entries: readonly ZipEntry[]): Promise<void> {
  const zip = new ZipFile();
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of sorted) {
    const options = { mtime: FIXED_MTIME, mode: 0o100644 };
    if ('file' in entry.source) zip.addFile(entry.source.file, entry.name, options);
    else zip.addBuffer(Buffer.from(entry.source.content, 'utf8'), entry.name, options);
  }
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path));
}
