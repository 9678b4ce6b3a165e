import { SequenceMarks } from './sequence-marks';

describe('SequenceMarks', () => {
  it('asks the source for the sequence after the last accepted', () => {
    const marks = new SequenceMarks(0);
    marks.accept(5);
    expect(marks.next).toBe(6);
    expect(marks.durable).toBe(0);
  });

  it('never moves the durable mark back for a flush that started earlier', () => {
    const marks = new SequenceMarks(0);
    expect(marks.markDurable(9)).toBe(9);
    expect(marks.markDurable(4)).toBe(9);
  });

  it('starts a restored session at its checkpoint, durable there too', () => {
    const marks = new SequenceMarks(120);
    expect(marks.next).toBe(121);
    expect(marks.durable).toBe(120);
  });

  it('counts a replayed spool record as accepted and durable, never lowering either', () => {
    const marks = new SequenceMarks(50);
    marks.replayed(70);
    marks.replayed(60);
    expect(marks.accepted).toBe(70);
    expect(marks.durable).toBe(70);
  });
});
