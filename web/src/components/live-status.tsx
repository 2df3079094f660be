// The line under a live video: its state (with the start-up time for tests), how far behind
// live it is, its size, and anything the page adds.
import type { ComponentChildren } from 'preact';
import { useI18n, type MessageKey } from '../i18n';
import type { PlayerStatus } from '../player';

export function LiveStatus({ status, children }: { status: PlayerStatus | null; children?: ComponentChildren }) {
  const { t } = useI18n();
  return (
    <p class="status-line">
      <span
        class={`live ${status?.state === 'playing' ? 'on' : 'off'}`}
        data-testid="live-state"
        data-startup-ms={status?.startupMs ?? ''}
      >
        {t(`live.state.${status?.state ?? 'connecting'}` as MessageKey)}
      </span>
      {children}
      {status?.latencyMs !== null && status?.latencyMs !== undefined && (
        <span class="muted" data-testid="live-latency">
          {t('live.latency', { ms: status.latencyMs })}
        </span>
      )}
      {status && status.width > 0 && (
        <span class="muted">
          {status.width}×{status.height}
        </span>
      )}
    </p>
  );
}
