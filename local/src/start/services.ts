/**
 * `npm start` runs a list of services in order. Each service starts, reports its URLs and the
 * settings it offers to the services after it (e.g. Azurite's connection string), and stops.
 * Adding the Teams simulator, the media host or the portal is one more entry in the list.
 */

export interface ServiceContext {
  /** Repository root. */
  readonly rootDir: string;
  /** Git-ignored folder for on-disk state (`.data`). */
  readonly dataDir: string;
  /** Environment for child processes: the caller's env plus every earlier service's `settings`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Writes one JSON line about the start itself. */
  log(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

export interface RunningService {
  readonly name: string;
  /** What a person opens or calls, by label. */
  readonly urls: Readonly<Record<string, string>>;
  /** Settings later services receive in their env. */
  readonly settings?: Readonly<Record<string, string>>;
  /** Resolves if the service stops on its own (a crash); `npm start` then stops everything. */
  readonly exited?: Promise<string>;
  /** Stops the service; idempotent. */
  stop(): Promise<void>;
}

export interface ServiceDefinition {
  readonly name: string;
  start(context: ServiceContext): Promise<RunningService>;
}

export interface RunningServices {
  readonly services: readonly RunningService[];
  /** Resolves with the name and reason of the first service that stopped on its own. */
  readonly firstExit: Promise<{ name: string; reason: string }>;
  /** Stops every service in reverse start order; idempotent. */
  stop(): Promise<void>;
}

/** Starts the services in order; if one fails, stops those already running and rethrows. */
export async function startServices(
  definitions: readonly ServiceDefinition[],
  base: Omit<ServiceContext, 'env'> & { env: Readonly<Record<string, string | undefined>> },
): Promise<RunningServices> {
  const running: RunningService[] = [];
  let env: Record<string, string | undefined> = { ...base.env };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const service of [...running].reverse()) {
        try {
          await service.stop();
          base.log('service stopped', { service: service.name });
        } catch (error) {
          base.log('service failed to stop', {
            service: service.name,
            errorMessage: (error as Error).message,
          });
        }
      }
    })();
    return stopping;
  };
  for (const definition of definitions) {
    base.log('service starting', { service: definition.name });
    try {
      const service = await definition.start({ ...base, env });
      running.push(service);
      env = { ...env, ...service.settings };
      base.log('service started', { service: definition.name, urls: service.urls });
    } catch (error) {
      await stop();
      throw new Error(`${definition.name} failed to start: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  const firstExit = Promise.race(
    running.map((s) =>
      (s.exited ?? new Promise<string>(() => undefined)).then((reason) => ({
        name: s.name,
        reason,
      })),
    ),
  );
  return { services: running, firstExit, stop };
}
