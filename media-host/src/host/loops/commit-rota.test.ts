import { CommitRota } from './commit-rota';

describe('CommitRota', () => {
  it('gives members slots round robin in the order first seen', () => {
    const rota = new CommitRota<object>(3);
    const members = [{}, {}, {}, {}];
    expect(members.map((m) => rota.slotOf(m))).toEqual([0, 1, 2, 0]);
  });

  it('keeps a member in its slot', () => {
    const rota = new CommitRota<object>(4);
    const member = {};
    rota.slotOf({});
    expect(rota.slotOf(member)).toBe(1);
    expect(rota.slotOf(member)).toBe(1);
  });

  it('makes each member due exactly once per full turn of the slots', () => {
    const rota = new CommitRota<object>(3);
    const members = [{}, {}, {}, {}, {}];
    const dueCounts = members.map(() => 0);
    for (let tick = 0; tick < 6; tick += 1) {
      const isDue = rota.nextTick();
      members.forEach((m, i) => {
        if (isDue(m)) dueCounts[i]! += 1;
      });
    }
    expect(dueCounts).toEqual([2, 2, 2, 2, 2]);
  });

  it('makes a member seen first at tick 0 due at that tick', () => {
    const rota = new CommitRota<object>(10);
    expect(rota.nextTick()({})).toBe(true);
  });

  it('refuses a slot count that is not a positive integer', () => {
    expect(() => new CommitRota(0)).toThrow(RangeError);
  });
});
