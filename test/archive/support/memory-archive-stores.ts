/** The archive's in-memory stores live in `functions/src/testing/` (benchmarks use them too). */
export * from '../../../functions/src/testing/memory-archive-stores';
