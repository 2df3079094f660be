// The signed-in person, if any: loaded from GET /me at start, updated by sign-in/out.
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { api } from './api';
import { useI18n, type Language } from './i18n';

export interface Profile {
  id: string;
  email: string;
  display_name: string;
  language: Language;
  email_verified: boolean;
  totp_enabled: boolean;
  created_at: string;
}

interface SessionState {
  user: Profile | null;
  loading: boolean;
  unreachable: boolean; // the server could not be asked (offline): nobody is known yet
  setUser: (user: Profile | null) => void;
  refresh: () => Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [user, setUserState] = useState<Profile | null>(null);
  const [loading, setLoading] = useState(true);
  const [unreachable, setUnreachable] = useState(false);
  const { setLanguage } = useI18n();

  const setUser = useCallback(
    (next: Profile | null) => {
      setUserState(next);
      if (next) setLanguage(next.language); // the profile's language drives the app
    },
    [setLanguage],
  );

  const refresh = useCallback(async () => {
    const r = await api<{ user: Profile | null }>('GET', '/auth/session');
    // Offline, nobody is signed out: the question waits until the server answers.
    setUnreachable(!r.ok && r.status === 0);
    if (r.ok || r.status !== 0) setUser(r.ok ? r.data.user : null);
    setLoading(false);
  }, [setUser]);

  useEffect(() => {
    void refresh();
    const again = () => void refresh();
    window.addEventListener('online', again);
    return () => window.removeEventListener('online', again);
  }, []);

  return (
    <SessionContext.Provider value={{ user, loading, unreachable, setUser, refresh }}>{children}</SessionContext.Provider>
  );
}

export function useSession(): SessionState {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}
