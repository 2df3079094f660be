// Client-side routing over the History API: the server answers every app path with the
// app, and this picks the page.
import { useEffect, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';

const listeners = new Set<() => void>();

export function navigate(path: string): void {
  if (path === location.pathname) return;
  history.pushState(null, '', path);
  listeners.forEach((notify) => notify());
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return path;
}

export function Link(props: {
  href: string;
  children: ComponentChildren;
  class?: string;
  onNavigate?: () => void;
  testId?: string;
}) {
  const onClick = (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(props.href);
    props.onNavigate?.();
  };
  const current = usePath() === props.href;
  return (
    <a
      href={props.href}
      class={props.class}
      aria-current={current ? 'page' : undefined}
      onClick={onClick}
      data-testid={props.testId}
    >
      {props.children}
    </a>
  );
}

// Where to go after signing in: the `next` of the address if it is a path of this app
// (never another site), else the cameras.
export function nextPath(): string {
  const next = new URLSearchParams(location.search).get('next') ?? '';
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/devices';
}
