/**
 * Tampering with an export package: an officer exports recorded interactions, then three copies
 * are altered: one media byte flipped, one block removed from a stream, two ledger entries
 * swapped. The offline verifier must pass the original and fail each copy, naming the exact
 * location (interaction, stream, block; ledger entry).
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { verifyExport } from '@attest/functions/dist/cli/verify-export';
import type { ChaosScenario } from '../scenario';
import { waitUntil } from '../calls';
import { sharedRecordedCall } from '../shared-call';
import type { ChaosStack } from '../stack';

interface ManifestFile {
  readonly streams: readonly {
    readonly streamId: string;
    readonly blocks: readonly { readonly offset: number; readonly length: number }[];
  }[];
}

/** The first interaction folder of the package with a stream of at least two blocks. */
async function streamWithBlocks(dir: string) {
  const root = path.join(dir, 'interactions');
  for (const tenant of await readdir(root))
    for (const id of await readdir(path.join(root, tenant))) {
      const folder = path.join(root, tenant, id);
      const manifest = JSON.parse(
        await readFile(path.join(folder, 'manifest.json'), 'utf8'),
      ) as ManifestFile;
      const stream = manifest.streams.find((s) => s.blocks.length >= 2);
      if (stream !== undefined)
        return { file: path.join(folder, 'media', `${stream.streamId}.bin`), stream };
    }
  throw new Error('no exported stream has two blocks');
}

/** The verifier's first two failures (a size mismatch comes before the block it names). */
async function firstFailures(dir: string): Promise<string | null> {
  const report = await verifyExport(dir);
  if (report.failures.length === 0) return null;
  return report.failures
    .slice(0, 2)
    .map((f) => `${f.location}: ${f.message}`.slice(0, 200))
    .join(' | ');
}

export const tampering: ChaosScenario<ChaosStack> = {
  name: 'tampering',
  description:
    'an export with a flipped byte, a removed block, a reordered ledger entry: the verifier names each',
  async run(context) {
    const stack = await context.stack();
    const call = await sharedRecordedCall(stack);
    const officer = await stack.userToken('officer');
    // Exported by a hold on the shared call: the selection is that interaction, in the officer's scope.
    const hold = await stack.api<{ holdId: string }>('POST', '/api/archive/holds', {
      token: officer,
      body: {
        matterId: 'CHAOS-EXPORT',
        description: 'fault campaign export',
        scope: { interactionIds: [call.interactionId] },
      },
    });
    if (hold.status !== 201) throw new Error(`the hold was refused (${hold.status})`);
    const started = await stack.api<{ exportId: string }>('POST', '/api/archive/exports', {
      token: officer,
      body: { holdId: hold.body.holdId },
    });
    if (started.status !== 202) throw new Error(`the export was refused (${started.status})`);
    const { exportId } = started.body;
    context.progress(`export ${exportId} started`);
    await waitUntil(async () => {
      const status = await stack.api<{ state: string }>('GET', `/api/archive/exports/${exportId}`, {
        token: officer,
      });
      if (status.body.state === 'failed') throw new Error('the export failed');
      return status.body.state === 'completed' ? true : undefined;
    }, 'the export to complete');
    // The package leaves as one zip through the download route; the verifier reads the folder.
    const download = await fetch(`${stack.baseUrl}/api/archive/exports/${exportId}/download`, {
      headers: { authorization: `Bearer ${officer}` },
    });
    if (download.status !== 200) throw new Error(`the download answered ${download.status}`);
    const work = await mkdtemp(path.join(tmpdir(), 'attest-chaos-export-'));
    const zip = path.join(work, 'package.zip');
    await writeFile(zip, Buffer.from(await download.arrayBuffer()));
    const unzipped = path.join(work, 'package');
    execFileSync('unzip', ['-q', zip, '-d', unzipped]);
    // The zip may hold the package in one top folder.
    const top = await readdir(unzipped);
    const original =
      top.includes('export.json') || top.length !== 1 ? unzipped : path.join(unzipped, top[0]!);
    const copy = async (name: string) => {
      const dir = `${original}-${name}`;
      await cp(original, dir, { recursive: true });
      return dir;
    };
    const originalFailure = await firstFailures(original);

    const flipped = await copy('flipped');
    const target = await streamWithBlocks(flipped);
    const bytes = await readFile(target.file);
    const flipAt = target.stream.blocks[1]!.offset + 1;
    bytes[flipAt] = (bytes[flipAt] ?? 0) ^ 0x01;
    await writeFile(target.file, bytes);

    const removed = await copy('removed');
    const cut = await streamWithBlocks(removed);
    const block = cut.stream.blocks[1]!;
    const media = await readFile(cut.file);
    await writeFile(
      cut.file,
      Buffer.concat([media.subarray(0, block.offset), media.subarray(block.offset + block.length)]),
    );

    const reordered = await copy('reordered');
    const ledgerFile = path.join(reordered, 'ledger', 'entries.jsonl');
    const lines = (await readFile(ledgerFile, 'utf8')).split('\n').filter((l) => l !== '');
    if (lines.length < 3) throw new Error('the exported ledger has fewer than 3 entries');
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    await writeFile(ledgerFile, `${lines.join('\n')}\n`);

    const figures = {
      originalVerifies: originalFailure === null,
      flippedByte: await firstFailures(flipped),
      removedBlock: await firstFailures(removed),
      reorderedLedgerEntry: await firstFailures(reordered),
    };
    for (const dir of [flipped, removed, reordered])
      await rm(dir, { recursive: true, force: true });
    return {
      isPassed:
        figures.originalVerifies &&
        /stream \S+ block 1:/.test(figures.flippedByte ?? '') &&
        // Synthetic audio repeats: a removed block may leave the next ones byte-identical, so the
        // verifier names the short file and the first block that no longer matches.
        /stream \S+ block \d+:/.test(figures.removedBlock ?? '') &&
        /ledger entry \d+/.test(figures.reorderedLedgerEntry ?? ''),
      figures,
    };
  },
};
