/**
 * Takes a downloaded export package (the zip of `GET archive/exports/{exportId}/download`) apart
 * into a folder, as an auditor would before `attest verify`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The bytes of a handler's response body (a stream, an async iterable, a buffer or a string). */
export async function responseBytes(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string' || Buffer.isBuffer(body)) return Buffer.from(body);
  if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  }
  throw new Error('the response body is not bytes');
}

/** Unzips `zip` into a new temporary folder; returns the package's folder (`{dir}/{exportId}`). */
export async function unzipPackage(zip: Buffer, exportId: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'attest-download-'));
  const file = path.join(dir, 'package.zip');
  await writeFile(file, zip);
  execFileSync('unzip', ['-q', file, '-d', path.join(dir, 'out')]);
  return path.join(dir, 'out', exportId);
}
