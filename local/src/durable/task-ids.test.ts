import {
  ActionType,
  TaskIds,
  flattenActions,
  nextTimerFireAt,
  retryDelayInMs,
  retryPolicyOf,
  takesId,
} from './task-ids';

const DAY = 24 * 3600_000;

describe('flattenActions', () => {
  it('lists atomic actions depth-first through WhenAll and WhenAny, in array order', () => {
    const actions = [
      [
        { actionType: ActionType.CallActivity, functionName: 'a' },
        {
          actionType: ActionType.WhenAny,
          compoundActions: [
            { actionType: ActionType.WaitForExternalEvent, externalEventName: 'e' },
            {
              actionType: ActionType.WhenAll,
              compoundActions: [
                { actionType: ActionType.CallActivity, functionName: 'b' },
                { actionType: ActionType.CreateTimer, fireAt: 'x' },
              ],
            },
          ],
        },
      ],
    ];
    expect(
      flattenActions(actions).map((a) => a.functionName ?? a.externalEventName ?? a.fireAt),
    ).toEqual(['a', 'e', 'b', 'x']);
  });

  it('gives no id to external event waits and continueAsNew', () => {
    expect(takesId({ actionType: ActionType.WaitForExternalEvent })).toBe(false);
    expect(takesId({ actionType: ActionType.ContinueAsNew })).toBe(false);
    expect(takesId({ actionType: ActionType.CreateTimer })).toBe(true);
  });
});

describe('nextTimerFireAt', () => {
  it('fires a timer of up to 6 days at its time', () => {
    expect(nextTimerFireAt(0, 6 * DAY)).toBe(6 * DAY);
  });

  it('splits a longer timer into 3-day steps until 6 days or less remain', () => {
    expect(nextTimerFireAt(0, 6 * DAY + 1)).toBe(3 * DAY);
    expect(nextTimerFireAt(3 * DAY, 6 * DAY + 1)).toBe(6 * DAY + 1);
  });
});

describe('retry policy', () => {
  it('reads the SDK RetryOptions fields and defaults the backoff to 1', () => {
    expect(
      retryPolicyOf({ firstRetryIntervalInMilliseconds: 500, maxNumberOfAttempts: 4 }),
    ).toEqual({
      firstRetryIntervalInMilliseconds: 500,
      maxNumberOfAttempts: 4,
      backoffCoefficient: 1,
      maxRetryIntervalInMilliseconds: undefined,
    });
  });

  it('grows the delay by the backoff coefficient and caps it at the maximum interval', () => {
    const policy = {
      firstRetryIntervalInMilliseconds: 1000,
      maxNumberOfAttempts: 5,
      backoffCoefficient: 2,
      maxRetryIntervalInMilliseconds: 3000,
    };
    expect([1, 2, 3, 4].map((failures) => retryDelayInMs(policy, failures))).toEqual([
      1000, 2000, 3000, 3000,
    ]);
  });

  it('ignores options without a positive first interval', () => {
    expect(
      retryPolicyOf({ firstRetryIntervalInMilliseconds: 0, maxNumberOfAttempts: 3 }),
    ).toBeUndefined();
  });
});

describe('TaskIds', () => {
  it('allocates the id after the highest recorded one and indexes user entries by position', () => {
    const ledger = new TaskIds();
    ledger.add({ id: 0, kind: 'user', index: 0, actionType: ActionType.CallActivity, name: 'a' });
    ledger.add({ id: 1, kind: 'retryTimer', group: 0, failures: 1 });
    expect(ledger.allocate()).toBe(2);
    expect(ledger.userCount).toBe(1);
    expect(ledger.user(0)).toMatchObject({ name: 'a' });
    expect(ledger.has(1)).toBe(true);
  });
});
