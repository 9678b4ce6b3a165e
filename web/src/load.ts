/** Loads data for a page: loading, error and data states, optional auto refresh. */
import { useCallback, useEffect, useRef, useState } from 'react';

export type Load<T> =
  | { readonly state: 'loading' }
  | { readonly state: 'error'; readonly error: Error }
  | { readonly state: 'ready'; readonly data: T; readonly loadedAt: Date };

export function useLoad<T>(
  fetcher: () => Promise<T>,
  deps: readonly unknown[],
  options: { readonly refreshInMs?: number } = {},
): Load<T> & { reload(): void } {
  const [load, setLoad] = useState<Load<T>>({ state: 'loading' });
  const generation = useRef(0);
  const run = useCallback(fetcher, deps);
  const reload = useCallback(() => {
    const mine = ++generation.current;
    run().then(
      (data) => {
        if (mine === generation.current) setLoad({ state: 'ready', data, loadedAt: new Date() });
      },
      (error: unknown) => {
        if (mine === generation.current)
          setLoad({
            state: 'error',
            error: error instanceof Error ? error : new Error(String(error)),
          });
      },
    );
  }, [run]);
  useEffect(() => {
    setLoad({ state: 'loading' });
    reload();
    if (options.refreshInMs === undefined) return undefined;
    const timer = setInterval(reload, options.refreshInMs);
    return () => clearInterval(timer);
  }, [reload, options.refreshInMs]);
  return { ...load, reload };
}
