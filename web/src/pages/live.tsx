// A live view given a device serial and a play token (until the device pages exist).
import { useEffect, useRef, useState } from 'preact/hooks';
import { Field } from '../components/form';
import { useI18n, useTitle } from '../i18n';
import { HlsLivePlayer } from '../hls-player';
import { LivePlayer, type PlayerStatus } from '../player';
import { LiveStatus } from '../components/live-status';

export function LivePage() {
  const { t } = useI18n();
  useTitle(t('live.title'));
  const params = new URLSearchParams(location.search);
  const [serial, setSerial] = useState(params.get('serial') ?? '');
  const [token, setToken] = useState(params.get('token') ?? '');
  const [active, setActive] = useState(Boolean(params.get('serial') && params.get('token')));
  const [mode, setMode] = useState(params.get('mode') === 'hls' ? 'hls' : 'ws');
  const [status, setStatus] = useState<PlayerStatus | null>(null);
  const video = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    if (!active || !video.current) return;
    const device = `/api/v1/devices/${encodeURIComponent(serial)}`;
    const query = `?token=${encodeURIComponent(token)}`;
    if (mode === 'hls') {
      const player = new HlsLivePlayer(video.current, `${device}/live.m3u8${query}`, setStatus);
      void player.start();
      return () => player.stop();
    }
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const player = new LivePlayer(video.current, `${scheme}//${location.host}${device}/live${query}`, setStatus);
    player.start();
    return () => player.stop();
  }, [active]);

  return (
    <section class="card">
      <h1>{t('live.title')}</h1>
      {!active && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setActive(true);
          }}
        >
          <Field label={t('live.serial')} name="serial" value={serial} onInput={setSerial} />
          <Field label={t('live.token')} name="token" value={token} onInput={setToken} />
          <fieldset class="choice">
            <legend>{t('live.mode')}</legend>
            <label>
              <input type="radio" name="mode" checked={mode === 'ws'} onChange={() => setMode('ws')} />
              {t('live.mode.ws')}
            </label>
            <label>
              <input type="radio" name="mode" checked={mode === 'hls'} onChange={() => setMode('hls')} />
              {t('live.mode.hls')}
            </label>
          </fieldset>
          <button type="submit" class="primary">
            {t('live.watch')}
          </button>
        </form>
      )}
      {active && (
        <>
          <video ref={video} class="live-video" muted playsInline autoPlay data-testid="live-video" />
          <LiveStatus status={status} />
        </>
      )}
    </section>
  );
}
