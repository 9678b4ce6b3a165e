/**
 * Streams an export package out of its store as one zip (`yazl`): the files in the package's
 * order under a folder named for the export, each read from the store only when the zip reaches
 * it, so memory stays bounded whatever the package's size. Media is stored (already compressed
 * or not worth it); JSON and text are deflated. Times are the export's creation time, so two
 * downloads of one package give the same bytes.
 */
import { PassThrough, type Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import type { ExportPackageRef, ExportPackageStore } from '../domain/archive-ports';

const TEXT_FILE = /\.(json|jsonl|sig|pem|md|txt)$/i;

export interface ZipOptions {
  /** The zip entries' modification time. */
  readonly mtime: Date;
}

/** The zip of `files` (package-relative paths); a store failure ends the stream with the error. */
export function zipExportPackage(
  store: ExportPackageStore,
  ref: ExportPackageRef,
  files: readonly string[],
  options: ZipOptions,
): Readable {
  const zip = new ZipFile();
  const out = new PassThrough();
  zip.on('error', (error: Error) => out.destroy(error));
  for (const file of files) {
    zip.addReadStreamLazy(
      `${ref.exportId}/${file}`,
      { mtime: options.mtime, compress: TEXT_FILE.test(file) },
      (callback) => {
        const fail = (error: Error): void => {
          out.destroy(error);
          zip.outputStream.unpipe(out);
        };
        store.openRead(ref, file).then((stream) => {
          if (stream === undefined) {
            fail(new Error(`export file ${file} disappeared while zipping`));
            return;
          }
          // yazl does not listen for a source's errors: a storage failure ends the download.
          stream.on('error', fail);
          callback(null, stream);
        }, fail);
      },
    );
  }
  zip.end();
  zip.outputStream.on('error', (error: Error) => out.destroy(error));
  zip.outputStream.pipe(out);
  return out;
}
