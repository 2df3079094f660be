// Small line icons drawn here (no icon font, no emoji: both depend on fonts a machine may
// not have). Decorative: the button around each says what it does.
const common = {
  width: 20,
  height: 20,
  viewBox: '0 0 24 24',
  fill: 'none',
  stroke: 'currentColor',
  'stroke-width': 2,
  'stroke-linecap': 'round',
  'stroke-linejoin': 'round',
  'aria-hidden': 'true',
  focusable: 'false',
} as const;

export const icons = {
  mic: () => (
    <svg {...common}>
      <rect x="9" y="3" width="6" height="11" rx="3" />
      <path d="M5 11a7 7 0 0 0 14 0M12 18v3" />
    </svg>
  ),
  soundOn: () => (
    <svg {...common}>
      <path d="M4 9h4l5-4v14l-5-4H4z" />
      <path d="M16 9a4 4 0 0 1 0 6M18.5 6.5a8 8 0 0 1 0 11" />
    </svg>
  ),
  soundOff: () => (
    <svg {...common}>
      <path d="M4 9h4l5-4v14l-5-4H4z" />
      <path d="M17 9l5 6M22 9l-5 6" />
    </svg>
  ),
  camera: () => (
    <svg {...common}>
      <path d="M4 8h3l2-3h6l2 3h3v11H4z" />
      <circle cx="12" cy="13" r="3.5" />
    </svg>
  ),
  record: () => (
    <svg {...common}>
      <circle cx="12" cy="12" r="6" fill="currentColor" />
    </svg>
  ),
  stop: () => (
    <svg {...common}>
      <rect x="7" y="7" width="10" height="10" fill="currentColor" />
    </svg>
  ),
  fullscreen: () => (
    <svg {...common}>
      <path d="M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5" />
    </svg>
  ),
  lock: () => (
    <svg {...common} width={36} height={36}>
      <rect x="5" y="11" width="14" height="9" rx="1" />
      <path d="M8 11V8a4 4 0 0 1 8 0v3" />
    </svg>
  ),
  video: () => (
    <svg {...common} width={36} height={36}>
      <rect x="3" y="6" width="13" height="12" rx="1" />
      <path d="M16 10l5-3v10l-5-3" />
    </svg>
  ),
};
