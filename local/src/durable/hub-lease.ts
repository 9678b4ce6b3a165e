/**
 * The task hub lease: one engine runs a task hub at a time. The lease row is taken at start,
 * renewed every third of its duration and released at close; a lease whose owner is gone (expired,
 * or a dead process on this machine) is taken over. Wall-clock time: the lease is about processes,
 * not orchestration time.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { TableEntity } from '@azure/data-tables';
import { ErrorCode, RecorderError } from '@attest/core';
import type { HostLogger } from '../host/log-sink';
import { HUB_PARTITION, statusOf, type HubStore, type Row } from './hub-store';
import { logFailure } from './log';

export interface HubLeaseOptions {
  readonly store: HubStore;
  readonly taskHubName: string;
  readonly log: HostLogger;
  /** How long the lease lasts without renewal (wall-clock ms). */
  readonly durationInMs: number;
  /** Called once when a renewal finds the lease taken by another owner. */
  readonly onLost: () => void;
}

export class HubLease {
  readonly #options: HubLeaseOptions;
  readonly #ownerId = randomUUID();
  #etag: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #isLost = false;

  constructor(options: HubLeaseOptions) {
    this.#options = options;
  }

  /** Takes the lease, or throws `Conflict` naming the process that holds it. */
  async acquire(): Promise<void> {
    const { store, log } = this.#options;
    const duration = this.#options.durationInMs;
    const entity = (): TableEntity<Record<string, unknown>> => ({
      partitionKey: HUB_PARTITION,
      rowKey: 'lease',
      OwnerId: this.#ownerId,
      Pid: process.pid,
      HostName: hostname(),
      ExpiresAt: Date.now() + duration,
    });
    const existing = await store.getRow(HUB_PARTITION, 'lease');
    if (existing === undefined) {
      try {
        const created = await store.table.createEntity(entity());
        this.#etag = created.etag;
      } catch (error) {
        if (statusOf(error) === 409) throw this.#held(await store.getRow(HUB_PARTITION, 'lease'));
        throw error;
      }
    } else {
      const expired = Number(existing.ExpiresAt) < Date.now();
      const ownerGone = existing.HostName === hostname() && !isProcessAlive(Number(existing.Pid));
      if (!expired && !ownerGone) throw this.#held(existing);
      try {
        const updated = await store.table.updateEntity(entity(), 'Replace', {
          etag: existing.etag,
        });
        this.#etag = updated.etag;
      } catch (error) {
        if (statusOf(error) === 412) throw this.#held(await store.getRow(HUB_PARTITION, 'lease'));
        throw error;
      }
      log.log('info', 'task hub lease taken over', {
        previousPid: Number(existing.Pid),
        expired,
      });
    }
    this.#timer = setInterval(
      () => void this.#renew(entity()),
      Math.max(250, Math.floor(duration / 3)),
    );
    this.#timer.unref();
  }

  /** Stops renewing (the lease then lapses unless released). */
  stopRenewing(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops renewing and deletes the lease row; failures are logged, not thrown. */
  async release(): Promise<void> {
    this.stopRenewing();
    if (this.#etag === undefined) return;
    try {
      await this.#options.store.table.deleteEntity(HUB_PARTITION, 'lease', { etag: this.#etag });
    } catch (error) {
      logFailure(this.#options.log, 'task hub lease release failed', error);
    }
    this.#etag = undefined;
  }

  #held(row: Row | undefined): RecorderError {
    const taskHub = this.#options.taskHubName;
    const pid = row === undefined ? 'unknown' : String(row.Pid);
    const host = row === undefined ? 'unknown' : String(row.HostName);
    return new RecorderError(
      ErrorCode.Conflict,
      `task hub '${taskHub}' is already run by another host (pid ${pid} on ${host}); stop that host or use another task hub name`,
      { details: { taskHub } },
    );
  }

  async #renew(entity: TableEntity<Record<string, unknown>>): Promise<void> {
    if (this.#isLost || this.#etag === undefined) return;
    try {
      const updated = await this.#options.store.table.updateEntity(entity, 'Replace', {
        etag: this.#etag,
      });
      this.#etag = updated.etag;
    } catch (error) {
      if (statusOf(error) === 412 || statusOf(error) === 404) {
        this.#options.log.log('error', 'task hub lease lost; the engine stops processing', {
          taskHub: this.#options.taskHubName,
        });
        this.#isLost = true;
        this.#options.onLost();
      } else {
        logFailure(this.#options.log, 'task hub lease renewal failed', error);
      }
    }
  }
}

function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
