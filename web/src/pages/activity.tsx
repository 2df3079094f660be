// The owner's view of who opened their camera (the access transparency log: live, pictures,
// playback, clips, talk, the SD card, shares, the operator), and the talk calls. Only what
// happened under the owner's own binding; people by e-mail while they have an account.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { useI18n, type MessageKey } from '../i18n';

interface AccessEntry {
  seq: number;
  at: string;
  kind: string;
  who: string | null;
  you: boolean;
  session: string;
  detail: Record<string, unknown>;
}

interface Call {
  user: string;
  start: string;
  duration_ms: number;
}

const known = ['live', 'playback', 'export', 'snapshot', 'event_picture', 'talk', 'sd_playback', 'share.create', 'share.accept', 'share.end'];

export function Activity({ id }: { id: string }) {
  const { t, formatDate } = useI18n();
  const [entries, setEntries] = useState<AccessEntry[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [calls, setCalls] = useState<Call[]>([]);
  const load = async (before?: number) => {
    const r = await api<{ entries: AccessEntry[]; next_before: number | null }>(
      'GET',
      `/devices/${id}/access-log${before ? `?before=${before}` : ''}`,
    );
    if (!r.ok) return;
    setEntries((old) => (before && old ? [...old, ...r.data.entries] : r.data.entries));
    setNext(r.data.next_before);
  };
  useEffect(() => {
    void load();
    void api<{ calls: Call[] }>('GET', `/devices/${id}/calls`).then((r) => r.ok && setCalls(r.data.calls));
  }, [id]);
  const who = (e: AccessEntry) =>
    e.you ? t('activity.who.you') : e.who === 'operator' ? t('activity.who.operator') : (e.who ?? t('activity.who.gone'));
  const what = (e: AccessEntry) =>
    known.includes(e.kind)
      ? t(`activity.kind.${e.kind}` as MessageKey)
      : e.kind.startsWith('operator.')
        ? t('activity.kind.operator', { action: e.kind.slice('operator.'.length) })
        : e.kind;
  return (
    <section class="activity">
      <h2>{t('activity.title')}</h2>
      <p class="muted">{t('activity.hint')}</p>
      {entries?.length === 0 && <p>{t('activity.none')}</p>}
      <ul data-testid="access-log">
        {entries?.map((e) => (
          <li data-kind={e.kind}>
            <time dateTime={e.at}>{formatDate(Date.parse(e.at), 'datetime')}</time> · <strong>{who(e)}</strong> ·{' '}
            {what(e)}
            {e.session && <small class="muted"> · {t('activity.session', { session: e.session })}</small>}
          </li>
        ))}
      </ul>
      {next !== null && (
        <button class="link" onClick={() => void load(next)} data-testid="access-log-older">
          {t('activity.older')}
        </button>
      )}
      <h2>{t('activity.calls')}</h2>
      {calls.length === 0 && <p>{t('activity.calls.none')}</p>}
      <ul data-testid="calls">
        {calls.map((c) => (
          <li>
            <time dateTime={c.start}>{formatDate(Date.parse(c.start), 'datetime')}</time> · {c.user || t('activity.who.gone')} ·{' '}
            {t('activity.call_length', { seconds: Math.round(c.duration_ms / 1000) })}
          </li>
        ))}
      </ul>
    </section>
  );
}
