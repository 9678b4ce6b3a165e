/**
 * A block's stored bytes, made with as few copies as the ingest path can afford: the plaintext
 * gathered out of its chunks into one buffer with room for the envelope, then encrypted in place.
 */
import { createCipheriv, randomFillSync } from 'node:crypto';
import { ENVELOPE_NONCE_BYTES, ENVELOPE_TAG_BYTES } from '@attest/core';
import { storedBlockBuffers, type BlockChunks } from './block-chunks';

/**
 * The block's plaintext copied out of its chunks into one buffer from the stored-block list,
 * `before` bytes in and with `after` bytes spare behind it (room for the nonce and the tag).
 */
export function gather(plaintext: BlockChunks, before: number, after: number): Buffer {
  const out = storedBlockBuffers.take(before + plaintext.byteLength + after);
  let at = before;
  plaintext.forEach((chunk) => {
    out.set(chunk, at);
    at += chunk.length;
  });
  return out;
}

/**
 * Encrypts the plaintext at `out[NONCE, NONCE + length)` in place of itself, giving exactly what
 * core's `encryptBlock` makes (nonce | AES-256-GCM ciphertext | tag, `decryptBlock` reads it). One
 * cipher call over the whole block: per-chunk calls (and copying each of their fresh outputs)
 * cost half as much again.
 */
export function encryptInPlace(dataKey: Buffer, aad: Buffer, out: Buffer): void {
  const end = out.length - ENVELOPE_TAG_BYTES;
  const nonce = out.subarray(0, ENVELOPE_NONCE_BYTES);
  randomFillSync(nonce);
  const cipher = createCipheriv('aes-256-gcm', dataKey, nonce);
  cipher.setAAD(aad);
  const body = cipher.update(out.subarray(ENVELOPE_NONCE_BYTES, end));
  out.set(body, ENVELOPE_NONCE_BYTES);
  const rest = cipher.final();
  out.set(rest, ENVELOPE_NONCE_BYTES + body.length);
  out.set(cipher.getAuthTag(), end);
}
