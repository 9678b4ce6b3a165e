import { recordingBlobNames } from './blob-names';

describe('recordingBlobNames', () => {
  const names = recordingBlobNames('tenant-1', 'int-9');

  it('puts the manifest and its signature beside the streams', () => {
    expect(names.manifest).toBe('tenant-1/int-9/manifest.json');
    expect(names.signature).toBe('tenant-1/int-9/manifest.sig');
  });

  it('names a stream segment by its id and extension', () => {
    expect(names.stream('audio-11.1', 'ogg')).toBe('tenant-1/int-9/streams/audio-11.1.ogg');
  });

  it('names the wrapped key after the interaction (it lives in the keys container)', () => {
    expect(names.wrappedKey).toBe('tenant-1/int-9.json');
  });
});
