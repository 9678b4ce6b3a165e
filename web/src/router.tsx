/** A small path router over the History API: the portal has a handful of pages, no nesting. */
import { Link as FluentLink } from '@fluentui/react-components';
import { useEffect, useState, type ReactNode } from 'react';
import { BASE_PATH } from './auth';

const listeners = new Set<() => void>();

export function navigate(path: string): void {
  window.history.pushState(null, '', BASE_PATH + path.replace(/^\//, ''));
  for (const l of listeners) l();
}

/** The path inside the portal, without the base (`calls/abc`), and the query. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const read = () => ({
    path: window.location.pathname.startsWith(BASE_PATH)
      ? window.location.pathname.slice(BASE_PATH.length)
      : '',
    query: new URLSearchParams(window.location.search),
  });
  const [location, setLocation] = useState(read);
  useEffect(() => {
    const update = () => setLocation(read());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return location;
}

export function Link(props: { to: string; children: ReactNode }) {
  return (
    <FluentLink
      href={BASE_PATH + props.to.replace(/^\//, '')}
      onClick={(event) => {
        if (event.ctrlKey || event.metaKey || event.shiftKey) return;
        event.preventDefault();
        navigate(props.to);
      }}
    >
      {props.children}
    </FluentLink>
  );
}
