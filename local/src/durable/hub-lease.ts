/**
 * The task hub lease: one engine runs a task hub at a time. The lease row is taken at start,
 * renewed every third of its duration and released at close; a lease whose owner is gone (expired,
 * or a dead process on this machine) is taken over. The row also publishes where the owner serves
 * the management API, so hosts that join the hub as clients (a scaled-out app's other instances)
 * send their durable client calls there. Wall-clock time: the lease is about processes, not
 * orchestration time.
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
  /** Where this engine serves the management API, published in the row while it owns the hub. */
  readonly endpoint?: () => HubEndpoint | undefined;
}

/**
 * Where the hub's owner serves the management API. `systemKey` is the owner's management key: it
 * sits in the hub's own table as Azure keeps a function app's host keys in its storage account
 * (`azure-webjobs-secrets`); anyone who can read the table can run the hub anyway.
 */
export interface HubEndpoint {
  /** The loopback management server, e.g. `http://127.0.0.1:50123`. */
  readonly rpcOrigin: string;
  /** The owner's Functions host (its `/runtime/webhooks/durabletask/` URLs), when it has one. */
  readonly hostBaseUrl: string | undefined;
  readonly systemKey: string;
}

/** The lease row as another host reads it. */
export interface HubOwner {
  /** Whether the owner still holds the lease (not expired, not a dead process on this machine). */
  readonly isLive: boolean;
  readonly pid: number;
  readonly endpoint: HubEndpoint | undefined;
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
    const entity = (): TableEntity<Record<string, unknown>> => {
      const endpoint = this.#options.endpoint?.();
      return {
        partitionKey: HUB_PARTITION,
        rowKey: 'lease',
        OwnerId: this.#ownerId,
        Pid: process.pid,
        HostName: hostname(),
        ExpiresAt: Date.now() + duration,
        ...(endpoint === undefined
          ? {}
          : {
              RpcOrigin: endpoint.rpcOrigin,
              SystemKey: endpoint.systemKey,
              ...(endpoint.hostBaseUrl === undefined ? {} : { HostBaseUrl: endpoint.hostBaseUrl }),
            }),
      };
    };
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
      if (isOwnerLive(existing)) throw this.#held(existing);
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

  /** The hub's current owner as the lease row tells, or undefined when nobody holds it. */
  async readOwner(): Promise<HubOwner | undefined> {
    const row = await this.#options.store.getRow(HUB_PARTITION, 'lease');
    if (row === undefined) return undefined;
    const text = (value: unknown): string | undefined =>
      typeof value === 'string' && value !== '' ? value : undefined;
    const rpcOrigin = text(row.RpcOrigin);
    const systemKey = text(row.SystemKey);
    return {
      isLive: isOwnerLive(row),
      pid: Number(row.Pid),
      endpoint:
        rpcOrigin === undefined || systemKey === undefined
          ? undefined
          : { rpcOrigin, systemKey, hostBaseUrl: text(row.HostBaseUrl) },
    };
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

/** Not expired, and not held by a process of this machine that no longer exists. */
function isOwnerLive(row: Row): boolean {
  const expired = Number(row.ExpiresAt) < Date.now();
  const ownerGone = row.HostName === hostname() && !isProcessAlive(Number(row.Pid));
  return !expired && !ownerGone;
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
