import { verifyLedger } from '@attest/core';
import { MemoryLedgerStore } from './support/memory-archive-stores';
import { createLedgerCheckpointJob } from '../../functions/src/timers/ledger-checkpoint.timer';
import { ledgerKeys, ManualClock } from './archive-fixtures';

describe('ledger checkpoint job', () => {
  it('signs the head once, skips an unchanged head and signs again after new entries', async () => {
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const ledger = new MemoryLedgerStore(clock);
    const job = createLedgerCheckpointJob({ ledger, signingKey: ledgerKeys.privateKey, clock });
    expect(await job()).toBeUndefined();
    await ledger.append({ kind: 'accessed', actor: 'a', subjectType: 'query', subjectId: 'q1' });
    await ledger.append({ kind: 'accessed', actor: 'a', subjectType: 'query', subjectId: 'q2' });
    expect(await job()).toMatchObject({ seq: 1, headSha256: ledger.entries[1]!.sha256 });
    clock.advance(3_600_000);
    expect(await job()).toBeUndefined();
    await ledger.append({ kind: 'accessed', actor: 'a', subjectType: 'query', subjectId: 'q3' });
    expect(await job()).toMatchObject({ seq: 2 });
    const result = verifyLedger(ledger.entries, {
      checkpoints: ledger.checkpoints,
      publicKey: ledgerKeys.publicKey,
    });
    expect(result).toMatchObject({ isValid: true, checkpointCount: 2 });
  });
});
