/**
 * `exportPackageV1`: writes one export package in short activities, so a long export survives a
 * host restart and shows its progress (custom status: phase, done, total). Fixes the selection,
 * writes it a batch at a time, then writes the report, index and ledger excerpt. Every step is
 * idempotent (the package's progress file), so a retried or resumed step never writes twice.
 * Continues as new after a bounded number of batches to keep its history short.
 * Frozen once shipped: changes go into `exportPackageV2`.
 */
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import * as df from 'durable-functions';
import {
  ArchiveActivityNames,
  type ExportBatchResult,
  type ExportJobInput,
  type ExportJobProgress,
  type ExportResult,
} from '../domain/archive-names';

/** Storage hiccups are retried; a step that keeps failing fails the export (it can be resumed). */
const stepRetry = new df.RetryOptions(5_000, 4);
stepRetry.backoffCoefficient = 2;

export const exportPackageOrchestrator: OrchestrationHandler = function* (
  context: OrchestrationContext,
): Generator<Task, ExportResult | undefined, unknown> {
  const input = context.df.getInput<ExportJobInput>();
  const { request } = input;
  const progress = (phase: ExportJobProgress['phase'], done: number, total: number): void => {
    const status: ExportJobProgress = { phase, done, total };
    context.df.setCustomStatus(status);
  };

  let total = input.total;
  let resumedCount = input.resumedCount ?? 0;
  if (total === undefined) {
    progress('selecting', 0, 0);
    const prepared = (yield context.df.callActivityWithRetry(
      ArchiveActivityNames.prepareExport,
      stepRetry,
      request,
    )) as { total: number; resumedCount: number };
    total = prepared.total;
    resumedCount = prepared.resumedCount;
  }

  let next = input.nextIndex ?? 0;
  for (let batch = 0; next < total; batch += 1) {
    if (batch >= input.maxBatchesPerExecution) {
      context.df.continueAsNew({ ...input, total, nextIndex: next, resumedCount });
      return undefined;
    }
    progress('writing', next, total);
    const written = (yield context.df.callActivityWithRetry(
      ArchiveActivityNames.writeExportBatch,
      stepRetry,
      { request, start: next, count: input.batchSize },
    )) as ExportBatchResult;
    next = written.nextIndex;
  }

  progress('finishing', total, total);
  const result = (yield context.df.callActivityWithRetry(
    ArchiveActivityNames.finishExport,
    stepRetry,
    { request, resumedCount },
  )) as ExportResult;
  progress('done', total, total);
  return result;
};
