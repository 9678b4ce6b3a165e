/**
 * Export packages in a blob container (`exports`), one folder per tenant and export:
 * `{tenantId}/{exportId}/{path}`. The container is private like the recordings; what it holds is
 * decrypted media, so only the function app's identity reaches it and every read for a person
 * goes through the authorised download route.
 */
import { RestError, type BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { ContainerNames } from '@attest/core';
import type { ExportPackageRef, ExportPackageStore } from '../domain/archive-ports';

export class BlobExportPackageStore implements ExportPackageStore {
  private readonly container: ContainerClient;
  private isContainerReady = false;

  constructor(service: BlobServiceClient, containerName: string = ContainerNames.exports) {
    this.container = service.getContainerClient(containerName);
  }

  private prefixOf(ref: ExportPackageRef): string {
    return `${ref.tenantId}/${ref.exportId}/`;
  }

  private blob(ref: ExportPackageRef, path: string) {
    return this.container.getBlockBlobClient(`${this.prefixOf(ref)}${path}`);
  }

  async write(ref: ExportPackageRef, path: string, bytes: Buffer | string): Promise<void> {
    if (!this.isContainerReady) {
      await this.container.createIfNotExists();
      this.isContainerReady = true;
    }
    const body = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    await this.blob(ref, path).uploadData(body);
  }

  async read(ref: ExportPackageRef, path: string): Promise<Buffer | undefined> {
    try {
      return await this.blob(ref, path).downloadToBuffer();
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  async delete(ref: ExportPackageRef, path: string): Promise<void> {
    await this.blob(ref, path).deleteIfExists();
  }

  async list(ref: ExportPackageRef): Promise<readonly string[]> {
    const prefix = this.prefixOf(ref);
    const names: string[] = [];
    if (!(await this.container.exists())) return names;
    for await (const blob of this.container.listBlobsFlat({ prefix }))
      names.push(blob.name.slice(prefix.length));
    return names.sort();
  }

  async openRead(ref: ExportPackageRef, path: string): Promise<NodeJS.ReadableStream | undefined> {
    try {
      const download = await this.blob(ref, path).download();
      return download.readableStreamBody;
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw error;
    }
  }
}
