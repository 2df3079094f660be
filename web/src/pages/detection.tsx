// Detection by the server, for a camera that cannot detect by itself: on or off, people or
// only motion, how much must move, and the zones that count, drawn on the camera's picture
// (tap to place corners, then "Finish zone"). Outside every zone nothing counts; with no zone,
// the whole picture does.
import { useEffect, useState } from 'preact/hooks';
import { api, type ApiError } from '../api';
import { ErrorNote, Note } from '../components/form';
import { useI18n } from '../i18n';

type Point = [number, number];
interface Zone {
  name: string;
  points: Point[];
}
interface Detection {
  enabled: boolean;
  zones: Zone[];
  min_area: number;
  threshold: number;
  person: boolean;
}

const areas = [0.005, 0.01, 0.02, 0.05];

export function DetectionPanel({ id }: { id: string }) {
  const { t } = useI18n();
  const [d, setD] = useState<Detection | null>(null);
  const [draft, setDraft] = useState<Point[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  const [picture, setPicture] = useState(true);
  useEffect(() => {
    void api<Detection>('GET', `/devices/${id}/detection`).then((r) => (r.ok ? setD(r.data) : setError(r.error)));
  }, [id]);
  if (!d) return <ErrorNote error={error} />;
  const change = (next: Partial<Detection>) => {
    setSaved(false);
    setD({ ...d, ...next });
  };
  const save = async () => {
    const r = await api<Detection>('PATCH', `/devices/${id}/detection`, d);
    if (!r.ok) return setError(r.error);
    setError(null);
    setD(r.data);
    setSaved(true);
  };
  const place = (e: MouseEvent) => {
    const box = (e.currentTarget as SVGSVGElement).getBoundingClientRect();
    const x = Math.min(1, Math.max(0, (e.clientX - box.left) / box.width));
    const y = Math.min(1, Math.max(0, (e.clientY - box.top) / box.height));
    const point: Point = [Math.round(x * 1000) / 1000, Math.round(y * 1000) / 1000];
    setDraft((was) => (was.length < 16 ? [...was, point] : was)); // taps quicker than a render
  };
  const finish = () => {
    if (draft.length < 3 || d.zones.length >= 8) return;
    change({ zones: [...d.zones, { name: t('detect.zone.name', { n: d.zones.length + 1 }), points: draft }] });
    setDraft([]);
  };
  const polygon = (points: Point[]) => points.map(([x, y]) => `${x},${y}`).join(' ');
  return (
    <div class="detection" data-testid="detection">
      <p class="muted">{t('detect.hint')}</p>
      <ErrorNote error={error} />
      {saved && <Note>{t('detect.saved')}</Note>}
      <label class="switch">
        <input type="checkbox" checked={d.enabled} onChange={(e) => change({ enabled: (e.target as HTMLInputElement).checked })} data-testid="detect-on" />
        <span>
          {t('detect.on')}
          <small class="muted">{t('detect.on.hint')}</small>
        </span>
      </label>
      <label class="switch">
        <input type="checkbox" checked={d.person} onChange={(e) => change({ person: (e.target as HTMLInputElement).checked })} data-testid="detect-person" />
        <span>{t('detect.person')}</span>
      </label>
      <label class="field">
        <span>{t('detect.area')}</span>
        <select value={String(d.min_area)} onChange={(e) => change({ min_area: Number((e.target as HTMLSelectElement).value) })} data-testid="detect-area">
          {(areas.includes(d.min_area) ? areas : [...areas, d.min_area].sort((a, b) => a - b)).map((a) => (
            <option value={String(a)} key={a}>
              {t('detect.area.percent', { n: Math.round(a * 1000) / 10 })}
            </option>
          ))}
        </select>
      </label>
      <h3>{t('detect.zones')}</h3>
      <div class="zone-editor">
        {picture ? (
          <img src={`/api/v1/devices/${id}/snapshot.jpg`} alt={t('detect.picture')} onError={() => setPicture(false)} />
        ) : (
          <div class="zone-blank">{t('detect.no_picture')}</div>
        )}
        <svg viewBox="0 0 1 1" preserveAspectRatio="none" onClick={place} data-testid="zone-canvas" role="img" aria-label={t('detect.zones')}>
          {d.zones.map((z, i) => (
            <polygon key={i} points={polygon(z.points)} class="zone" data-testid="zone" />
          ))}
          {draft.length > 0 && <polyline points={polygon(draft)} class="zone-draft" />}
          {draft.map(([x, y], i) => (
            <circle key={i} cx={x} cy={y} r={0.012} class="zone-corner" />
          ))}
        </svg>
      </div>
      <p class="muted">{d.zones.length === 0 ? t('detect.zones.none') : t('detect.zones.count', { n: d.zones.length })}</p>
      <div class="actions">
        <button type="button" onClick={finish} disabled={draft.length < 3} data-testid="zone-finish">
          {t('detect.zone.finish')}
        </button>
        <button type="button" onClick={() => setDraft(draft.slice(0, -1))} disabled={draft.length === 0}>
          {t('detect.zone.undo')}
        </button>
        <button type="button" onClick={() => change({ zones: [] })} disabled={d.zones.length === 0} data-testid="zone-clear">
          {t('detect.zone.clear')}
        </button>
      </div>
      <button type="button" class="primary" onClick={() => void save()} data-testid="detect-save">
        {t('devices.save')}
      </button>
    </div>
  );
}
