/**
 * What the chaos stack stored for a call, read from storage as an auditor would: the sealed
 * manifest's streams (their stored seconds, the spans their timeline skips, whether their blocks
 * and timeline are in order) and the stream blobs' sizes.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { recordingBlobNames } from '@attest/core';
import { TENANT, type ChaosStack } from './stack';

export interface StoredStream {
  readonly streamId: string;
  readonly kind: string;
  readonly blobName: string;
  readonly frameCount: number;
  readonly durationInMs: number;
  readonly storedBytes: number;
  readonly blocks: readonly {
    readonly index: number;
    readonly offset: number;
    readonly length: number;
  }[];
  readonly timeline?: readonly { readonly mediaInMs: number; readonly timestamp100ns: string }[];
}

export interface StoredManifest {
  readonly streams: readonly StoredStream[];
  readonly gaps: readonly { readonly reason: string; readonly actor?: string }[];
}

/** The interaction's sealed manifest, or undefined when none was stored. */
export async function storedManifest(
  stack: ChaosStack,
  interactionId: string,
): Promise<StoredManifest | undefined> {
  const blob = BlobServiceClient.fromConnectionString(stack.storageConnection)
    .getContainerClient('recordings')
    .getBlobClient(recordingBlobNames(TENANT, interactionId).manifest);
  if (!(await blob.exists())) return undefined;
  return JSON.parse((await blob.downloadToBuffer()).toString('utf8')) as StoredManifest;
}

/** Media time the stream's timeline skips between consecutive points, in ms (nothing stored). */
export function skippedSpansInMs(stream: StoredStream): number[] {
  const points = stream.timeline ?? [];
  return points.slice(1).map((point, i) => {
    const before = points[i]!;
    const platformMs = Number(BigInt(point.timestamp100ns) - BigInt(before.timestamp100ns)) / 1e4;
    return platformMs - (point.mediaInMs - before.mediaInMs);
  });
}

/** Blocks numbered 0, 1, 2… and contiguous, timeline times increasing: nothing out of order. */
export function isOrderKept(stream: StoredStream): boolean {
  let offset = 0;
  for (const [i, block] of stream.blocks.entries()) {
    if (block.index !== i || block.offset !== offset) return false;
    offset += block.length;
  }
  const points = stream.timeline ?? [];
  return points.every(
    (p, i) =>
      i === 0 ||
      (BigInt(p.timestamp100ns) > BigInt(points[i - 1]!.timestamp100ns) &&
        p.mediaInMs >= points[i - 1]!.mediaInMs),
  );
}

/** Whether each stream's blob holds exactly the bytes its manifest lists. */
export async function blobsMatchManifest(
  stack: ChaosStack,
  manifest: StoredManifest,
): Promise<boolean> {
  const container = BlobServiceClient.fromConnectionString(
    stack.storageConnection,
  ).getContainerClient('recordings');
  for (const stream of manifest.streams) {
    const properties = await container.getBlobClient(stream.blobName).getProperties();
    if (properties.contentLength !== stream.storedBytes) return false;
  }
  return true;
}
