/**
 * The player's lane names: a participant's display name (and number for a phone caller) from the
 * interaction's participant list, the ids as secondary text, and an unknown speaker by its media
 * source id.
 */
import {
  knownParticipants,
  labelLanes,
  participantName,
  speakerLabel,
} from '../../web/src/speakers';
import type { Participant } from '../../web/src/types';

const alice: Participant = {
  participantId: 'p-1',
  identityKind: 'user',
  identityId: 'oid-alice',
  displayName: 'Alice Trader',
  msis: ['11'],
};
const caller: Participant = {
  participantId: 'p-2',
  identityKind: 'phone',
  identityId: '+14255550100',
  displayName: 'Contoso Desk',
  msis: ['12'],
};
const anonymousCaller: Participant = {
  participantId: 'p-3',
  identityKind: 'phone',
  identityId: '+14255550199',
  msis: ['13'],
};

describe('speaker labels', () => {
  it('names a lane after its participant, with the ids as secondary text', () => {
    expect(speakerLabel({ participantId: 'p-1', msi: '11' }, [alice, caller])).toEqual({
      label: 'Alice Trader',
      labelDetail: 'participant p-1, user oid-alice, media source 11',
    });
  });

  it('adds the number of a phone caller, and shows the number alone when there is no name', () => {
    expect(speakerLabel({ participantId: 'p-2', msi: '12' }, [alice, caller]).label).toBe(
      'Contoso Desk (+14255550100)',
    );
    expect(participantName(anonymousCaller)).toBe('+14255550199');
  });

  it('finds the participant by media source when the manifest names none', () => {
    expect(speakerLabel({ msi: '11' }, [alice]).label).toBe('Alice Trader');
  });

  it('calls a source no participant is known for an unknown speaker, by its msi', () => {
    expect(speakerLabel({ participantId: 'p-9', msi: '42' }, [alice])).toEqual({
      label: 'Unknown speaker (msi 42)',
      labelDetail: 'participant p-9, media source 42',
    });
  });

  it('names lanes from the participant list only; the manifest adds the others to the list by id', () => {
    const manifest = [
      { participantId: 'p-1', identityId: 'oid-alice', msis: ['11'] },
      { participantId: 'p-5', identityId: 'oid-bob', msis: ['15'] },
    ];
    expect(knownParticipants([alice], manifest).map(participantName)).toEqual([
      'Alice Trader',
      'Participant p-5',
    ]);
    expect(
      labelLanes(
        [
          { streamId: 'a', label: 'Unknown speaker (msi 11)', participantId: 'p-1', msi: '11' },
          { streamId: 'b', label: 'Unknown speaker (msi 15)', participantId: 'p-5', msi: '15' },
        ],
        [alice],
      ).map((l) => l.label),
    ).toEqual(['Alice Trader', 'Unknown speaker (msi 15)']);
  });
});
