/**
 * `dispositionV1`: deletes one expired interaction. Auto classes delete at once; approval
 * classes wait for a second person's decision (an external event raced against a timer, with
 * reminders) and time out after the configured period. Short by design: the daily retention job
 * starts it only for interactions already expired, so no timer spans years.
 * Frozen once shipped: changes go into `dispositionV2`.
 */
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import {
  ArchiveActivityNames,
  ArchiveEventNames,
  type DisposeOutcome,
  type DispositionCheck,
  type DispositionDecision,
  type DispositionInput,
  type DispositionResult,
} from '../domain/archive-names';

export const dispositionOrchestrator: OrchestrationHandler = function* (
  context: OrchestrationContext,
): Generator<Task, DispositionResult, unknown> {
  const input = context.df.getInput<DispositionInput>();
  const subject = { tenantId: input.tenantId, interactionId: input.interactionId };

  const check = (yield context.df.callActivity(
    ArchiveActivityNames.checkDisposition,
    subject,
  )) as DispositionCheck;
  if (check.action === 'skip') return { status: 'skipped', reason: check.reason ?? 'notDue' };

  let approvedBy = input.requestedBy;
  if (input.mode === 'approval') {
    const startedAtInMs = context.df.currentUtcDateTime.getTime();
    const deadlineInMs = startedAtInMs + input.approvalTimeoutInMs;
    // Reminders keep their cadence whatever events arrive in between.
    let nextReminderAtInMs = startedAtInMs + input.reminderIntervalInMs;
    let reminder = 0;
    yield context.df.callActivity(ArchiveActivityNames.requestDispositionApproval, {
      ...subject,
      reminder,
      instanceId: context.df.instanceId,
    });
    let decision: DispositionDecision | undefined;
    while (decision === undefined) {
      const nowInMs = context.df.currentUtcDateTime.getTime();
      if (nowInMs >= deadlineInMs) {
        yield context.df.callActivity(ArchiveActivityNames.recordDispositionOutcome, {
          ...subject,
          outcome: 'timedOut',
        });
        return { status: 'timedOut' };
      }
      const wakeAtInMs = Math.min(deadlineInMs, nextReminderAtInMs);
      const timer = context.df.createTimer(new Date(wakeAtInMs));
      const event = context.df.waitForExternalEvent(ArchiveEventNames.dispositionDecision);
      const winner = (yield context.df.Task.any([event, timer])) as Task;
      if (winner === event) {
        // A pending timer would keep the instance alive after it returns.
        timer.cancel();
        const raised = event.result as DispositionDecision;
        // The admin API refuses self-approval too; this keeps the rule inside the workflow.
        if (raised.decidedBy !== input.requestedBy) decision = raised;
      } else if (wakeAtInMs < deadlineInMs) {
        reminder += 1;
        nextReminderAtInMs += input.reminderIntervalInMs;
        yield context.df.callActivity(ArchiveActivityNames.requestDispositionApproval, {
          ...subject,
          reminder,
          instanceId: context.df.instanceId,
        });
      }
    }
    if (!decision.isApproved) {
      yield context.df.callActivity(ArchiveActivityNames.recordDispositionOutcome, {
        ...subject,
        outcome: 'rejected',
        decidedBy: decision.decidedBy,
      });
      return { status: 'rejected', decidedBy: decision.decidedBy };
    }
    approvedBy = decision.decidedBy;
  }

  const outcome = (yield context.df.callActivity(ArchiveActivityNames.disposeInteraction, {
    ...subject,
    approvedBy,
  })) as DisposeOutcome;
  if (outcome.status === 'deleted') return { status: 'deleted', ledgerSeq: outcome.ledgerSeq };
  return outcome;
};
