/**
 * Runs timer triggers on their schedules: six-field NCRONTAB (`{second} {minute} {hour} {day}
 * {month} {day-of-week}`) or a `hh:mm:ss` interval. Time comes only from the injected clock.
 * With the system clock the scheduler arms a real timer for the next occurrence; with a manual
 * clock nothing fires until the test calls `advanceTo`/`advanceBy`/`tick`.
 *
 * Occurrences missed while the host was busy or the clock jumped are coalesced into one
 * invocation with `isPastDue: true`, as the Functions host does. A timer never overlaps itself.
 * With a `statusStore`, schedule status survives restarts as the Functions host keeps it in blob
 * storage, and an occurrence missed while the host was down fires at start as past due.
 */
import { parseExpression } from 'cron-parser';
import { isManualClock, type Clock } from './clock';
import type { CapturedFunction } from './contracts';
import type { LoadedFunctionApp } from './function-app';
import { jsonData } from './typed-data';
import { parseTimeSpanInMs } from './host-config';
import { resolveSettingExpressions, type AppSettings } from './app-settings';
import type { HostLogger } from './log-sink';

/** A timer's last recorded status, as the Functions host keeps it between runs. */
export interface TimerScheduleStatus {
  readonly last: Date;
  readonly next: Date;
  readonly lastUpdated: Date;
}

/** Where schedule status survives host restarts (blob storage, like the Functions host). */
export interface TimerStatusStore {
  read(functionName: string): Promise<TimerScheduleStatus | undefined>;
  write(functionName: string, status: TimerScheduleStatus): Promise<void>;
}

export interface TimerSchedulerOptions {
  readonly app: LoadedFunctionApp;
  /**
   * Keeps schedule status across restarts: an occurrence missed while the host was down fires
   * at start with `isPastDue: true`. Without it, status lives in memory only.
   */
  readonly statusStore?: TimerStatusStore;
  readonly clock: Clock;
  readonly logger: HostLogger;
  readonly appSettings: AppSettings;
  /** How late an occurrence may run before it counts as past due. Default 1000 ms. */
  readonly pastDueToleranceInMs?: number;
}

export interface TimerState {
  readonly functionName: string;
  readonly schedule: string;
  /** The next occurrence that will fire. */
  readonly next: Date;
  readonly last: Date | undefined;
}

interface TimerEntry {
  readonly fn: CapturedFunction;
  readonly schedule: string;
  readonly nextAfter: (after: Date) => Date;
  readonly runOnStartup: boolean;
  next: Date;
  last: Date | undefined;
  running: Promise<void> | undefined;
}

function scheduleFunction(
  schedule: string,
  timeZone: string | undefined,
  functionName: string,
): (after: Date) => Date {
  const trimmed = schedule.trim();
  if (/^(\d+\.)?\d{1,2}:\d{2}:\d{2}$/.test(trimmed)) {
    const intervalInMs = parseTimeSpanInMs(trimmed, `schedule of ${functionName}`);
    if (intervalInMs <= 0) throw new Error(`Timer "${functionName}" has a zero interval`);
    return (after) => new Date(after.getTime() + intervalInMs);
  }
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 6) {
    throw new Error(
      `Timer "${functionName}" schedule "${schedule}" must have six NCRONTAB fields: {second} {minute} {hour} {day} {month} {day-of-week}`,
    );
  }
  try {
    parseExpression(trimmed, { currentDate: new Date(0), tz: timeZone ?? 'UTC' }).next();
  } catch (error) {
    throw new Error(
      `Timer "${functionName}" schedule "${schedule}" is invalid: ${(error as Error).message}`,
    );
  }
  return (after) =>
    parseExpression(trimmed, { currentDate: after, tz: timeZone ?? 'UTC' })
      .next()
      .toDate();
}

export class TimerScheduler {
  readonly #options: TimerSchedulerOptions;
  readonly #entries: TimerEntry[];
  #armed: NodeJS.Timeout | undefined;
  #started = false;
  #starting: Promise<void> | undefined;
  #closed = false;

  constructor(options: TimerSchedulerOptions) {
    this.#options = options;
    const now = options.clock.now();
    const timeZone = options.appSettings.WEBSITE_TIME_ZONE;
    this.#entries = options.app.listByTrigger('timerTrigger').map((fn) => {
      const raw = typeof fn.trigger.schedule === 'string' ? fn.trigger.schedule : '';
      const schedule = resolveSettingExpressions(raw, options.appSettings, fn.name);
      const nextAfter = scheduleFunction(schedule, timeZone, fn.name);
      return {
        fn,
        schedule,
        nextAfter,
        runOnStartup: fn.trigger.runOnStartup === true,
        next: nextAfter(now),
        last: undefined,
        running: undefined,
      };
    });
  }

  list(): readonly TimerState[] {
    return this.#entries.map((e) => ({
      functionName: e.fn.name,
      schedule: e.schedule,
      next: e.next,
      last: e.last,
    }));
  }

  /**
   * Fires `runOnStartup` timers and occurrences missed while the host was down (per the status
   * store), then keeps firing on schedule (real clock only). Idempotent: a second call resolves
   * when the first start has finished.
   */
  start(): Promise<void> {
    // One start: a second call waits for the first (its catch-up runs included).
    this.#starting ??= this.#closed ? Promise.resolve() : this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    this.#started = true;
    const now = this.#options.clock.now();
    const store = this.#options.statusStore;
    await Promise.all(
      this.#entries.map(async (entry) => {
        // Counted from now: a scheduler may start long after it was built (an instance that
        // takes the timers over from another).
        entry.next = entry.nextAfter(now);
        let stored: TimerScheduleStatus | undefined;
        try {
          stored = await store?.read(entry.fn.name);
        } catch (error) {
          this.#options.logger.log('warn', 'timer status unreadable', {
            functionName: entry.fn.name,
            errorMessage: error instanceof Error ? error.message : String(error),
          });
        }
        if (stored !== undefined) entry.last = stored.last;
        const missed = stored !== undefined && stored.next.getTime() <= now.getTime();
        if (missed && stored !== undefined) {
          entry.last = stored.next;
          await this.#fire(entry, stored.next, true);
        } else if (entry.runOnStartup) {
          await this.#fire(entry, now, false);
        } else if (stored === undefined && store !== undefined) {
          await this.#saveStatus(entry, now);
        }
      }),
    );
    this.#arm();
  }

  /**
   * Runs every timer that is due at the clock's current time and waits for them; nothing before
   * `start` (an instance whose timers another instance runs) or after `close`.
   */
  async tick(): Promise<void> {
    if (!this.#started || this.#closed) return;
    const now = this.#options.clock.now();
    const tolerance = this.#options.pastDueToleranceInMs ?? 1000;
    const due = this.#entries.filter(
      (e) => e.running === undefined && e.next.getTime() <= now.getTime(),
    );
    await Promise.all(
      due.map((entry) => {
        const scheduled = entry.next;
        const followingOccurrence = entry.nextAfter(scheduled);
        const isPastDue =
          now.getTime() - scheduled.getTime() > tolerance ||
          followingOccurrence.getTime() <= now.getTime();
        entry.last = scheduled;
        entry.next = entry.nextAfter(now);
        return this.#fire(entry, scheduled, isPastDue);
      }),
    );
    this.#arm();
  }

  /** Manual clock only: moves the clock to `date` and runs what became due. */
  async advanceTo(date: Date): Promise<void> {
    const clock = this.#options.clock;
    if (!isManualClock(clock)) throw new Error('advanceTo needs the host to run on a manual clock');
    clock.set(date);
    await this.tick();
  }

  async advanceBy(durationInMs: number): Promise<void> {
    await this.advanceTo(new Date(this.#options.clock.now().getTime() + durationInMs));
  }

  /** Stops arming timers and waits for running invocations; idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#armed !== undefined) clearTimeout(this.#armed);
    this.#armed = undefined;
    await Promise.all(this.#entries.map((e) => e.running ?? Promise.resolve()));
  }

  #fire(entry: TimerEntry, scheduled: Date, isPastDue: boolean): Promise<void> {
    const { app, logger, clock } = this.#options;
    const now = clock.now();
    const timerInfo = {
      Schedule: { AdjustForDST: true },
      ScheduleStatus: {
        Last: (entry.last ?? scheduled).toISOString(),
        Next: entry.next.toISOString(),
        LastUpdated: now.toISOString(),
      },
      IsPastDue: isPastDue,
    };
    const run = app
      .invoke(entry.fn.name, jsonData(timerInfo))
      .then(
        () => undefined,
        (error: unknown) => {
          logger.log('warn', 'timer function failed', {
            functionName: entry.fn.name,
            errorMessage: error instanceof Error ? error.message : String(error),
          });
        },
      )
      // Recorded after failures too: a failing occurrence is not "missed" at the next start.
      .then(() => this.#saveStatus(entry, clock.now()))
      .finally(() => {
        entry.running = undefined;
        // A run that outlasted its next occurrence was skipped by tick(); re-arm for it now.
        this.#arm();
      });
    entry.running = run;
    return run;
  }

  async #saveStatus(entry: TimerEntry, now: Date): Promise<void> {
    const store = this.#options.statusStore;
    if (store === undefined) return;
    try {
      await store.write(entry.fn.name, {
        last: entry.last ?? now,
        next: entry.next,
        lastUpdated: now,
      });
    } catch (error) {
      this.#options.logger.log('warn', 'timer status not saved', {
        functionName: entry.fn.name,
        errorMessage: error instanceof Error ? error.message : String(error),
      });
    }
  }

  #arm(): void {
    if (this.#closed || !this.#started || isManualClock(this.#options.clock)) return;
    if (this.#armed !== undefined) clearTimeout(this.#armed);
    this.#armed = undefined;
    const idle = this.#entries.filter((e) => e.running === undefined);
    if (idle.length === 0) return;
    const earliest = Math.min(...idle.map((e) => e.next.getTime()));
    const delayInMs = Math.min(
      Math.max(earliest - this.#options.clock.now().getTime(), 0),
      2 ** 31 - 1,
    );
    this.#armed = setTimeout(() => {
      this.tick().catch((error: unknown) => {
        this.#options.logger.log('error', 'timer scheduler failed', {
          errorMessage: error instanceof Error ? error.message : String(error),
        });
      });
    }, delayInMs);
  }
}
