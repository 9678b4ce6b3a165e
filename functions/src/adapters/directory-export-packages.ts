/**
 * Export packages in a local folder (`{root}/{exportId}/...`): for an export made offline (the
 * verifier's benchmark, tests that tamper with a package on disk). The function app itself
 * writes to {@link BlobExportPackageStore}. Files are readable by their owner only (0600, folders
 * 0700): they hold decrypted media.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExportPackageRef, ExportPackageStore } from '../domain/archive-ports';

async function walk(dir: string, prefix = ''): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const entry of entries) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await walk(path.join(dir, entry.name), relative)));
    else out.push(relative);
  }
  return out;
}

export class DirectoryExportPackageStore implements ExportPackageStore {
  /** `dirOf` names the folder of a package; default `{root}/{exportId}`. */
  constructor(private readonly dirOf: (ref: ExportPackageRef) => string) {}

  static under(root: string): DirectoryExportPackageStore {
    return new DirectoryExportPackageStore((ref) => path.join(root, ref.exportId));
  }

  private file(ref: ExportPackageRef, relative: string): string {
    return path.join(this.dirOf(ref), ...relative.split('/'));
  }

  async write(ref: ExportPackageRef, relative: string, bytes: Buffer | string): Promise<void> {
    const file = this.file(ref, relative);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, bytes, { mode: 0o600 });
  }

  async read(ref: ExportPackageRef, relative: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.file(ref, relative));
    } catch {
      return undefined;
    }
  }

  async delete(ref: ExportPackageRef, relative: string): Promise<void> {
    await rm(this.file(ref, relative), { force: true });
  }

  async list(ref: ExportPackageRef): Promise<readonly string[]> {
    return (await walk(this.dirOf(ref))).sort();
  }

  async openRead(
    ref: ExportPackageRef,
    relative: string,
  ): Promise<NodeJS.ReadableStream | undefined> {
    const file = this.file(ref, relative);
    try {
      if (!(await stat(file)).isFile()) return undefined;
    } catch {
      return undefined;
    }
    return createReadStream(file);
  }
}
