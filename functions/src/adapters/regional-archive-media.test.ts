import { MemoryRecordingBlobStore } from '../testing/memory-archive-stores';
import { RegionalRecordingBlobStore } from './regional-archive-media';

class CountingStore extends MemoryRecordingBlobStore {
  lists = 0;
  override listRecordingBlobs(tenantId: string, interactionId: string) {
    this.lists += 1;
    return super.listRecordingBlobs(tenantId, interactionId);
  }
}

function setup() {
  const home = new CountingStore();
  const west = new CountingStore();
  const north = new CountingStore();
  west.recordings.set('t/i-west/audio.ogg', Buffer.from('west audio'));
  west.keys.set('t/i-west.json', Buffer.from('west key'));
  north.recordings.set('t/i-north/audio.ogg', Buffer.from('north audio'));
  north.keys.set('t/i-north.json', Buffer.from('north key'));
  const store = new RegionalRecordingBlobStore([
    { region: 'home', store: home },
    { region: 'westeurope', store: west },
    { region: 'northeurope', store: north },
  ]);
  return { store, home, west, north };
}

describe('RegionalRecordingBlobStore', () => {
  it('reads each interaction from the account of the region that recorded it', async () => {
    const { store } = setup();
    await expect(store.listRecordingBlobs('t', 'i-north')).resolves.toEqual([
      't/i-north/audio.ogg',
    ]);
    await expect(store.readRecordingBlob('t/i-west/audio.ogg')).resolves.toEqual(
      Buffer.from('west audio'),
    );
    await expect(store.readWrappedKey('t', 'i-north')).resolves.toEqual(Buffer.from('north key'));
    await expect(store.regionOf('t', 'i-west')).resolves.toBe('westeurope');
  });

  it('asks the accounts once per interaction, then goes straight to the one that has it', async () => {
    const { store, home, west, north } = setup();
    await store.readRecordingBlob('t/i-west/audio.ogg');
    await store.readRecordingBlob('t/i-west/audio.ogg');
    await store.listRecordingBlobs('t', 'i-west');
    expect([home.lists, north.lists]).toEqual([1, 0]);
    // One lookup, then the listing asked for.
    expect(west.lists).toBe(2);
  });

  it('finds nothing for an interaction no account holds', async () => {
    const { store } = setup();
    await expect(store.listRecordingBlobs('t', 'missing')).resolves.toEqual([]);
    await expect(store.readRecordingBlob('t/missing/audio.ogg')).resolves.toBeUndefined();
    await expect(store.regionOf('t', 'missing')).resolves.toBeUndefined();
  });

  it('holds and protects the blob in the account that has it', async () => {
    const { store, west, home } = setup();
    await store.setLegalHold('t/i-west/audio.ogg', true);
    const until = new Date('2031-01-01T00:00:00Z');
    await store.applyImmutability('t/i-west/audio.ogg', until);
    expect([...west.legalHolds]).toEqual(['t/i-west/audio.ogg']);
    expect(west.immutability.get('t/i-west/audio.ogg')).toEqual(until);
    expect(home.legalHolds.size).toBe(0);
  });

  it('deletes a recording and its key wherever they are', async () => {
    const { store, north } = setup();
    await store.deleteRecordingBlob('t/i-north/audio.ogg');
    await store.deleteWrappedKey('t', 'i-north');
    expect(north.recordings.size).toBe(0);
    expect(north.keys.size).toBe(0);
  });
});
