// A session's client as a person would say it ("Chromium on Linux"), from its User-Agent.
// Unknown clients are shown by their first word, never as the raw string.
const browsers: [RegExp, string][] = [
  [/\bEdg(e|A|iOS)?\//, 'Edge'],
  [/\bOPR\//, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/\bChromium\//, 'Chromium'],
  [/\bHeadlessChrome\//, 'Chromium'],
  [/\bChrome\/|\bCriOS\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*Safari\//, 'Safari'],
  [/^curl\//, 'curl'],
];
const systems: [RegExp, string][] = [
  [/\bAndroid\b/, 'Android'],
  [/\biPhone\b|\biPad\b|\biPod\b/, 'iOS'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b|\bX11\b/, 'Linux'],
];

export function describeClient(userAgent: string): { browser: string; system: string | null } {
  const ua = userAgent.trim();
  let browser = browsers.find(([re]) => re.test(ua))?.[1];
  if (!browser) browser = (ua.split(/[\s/]/)[0] || '?').slice(0, 32);
  const system = systems.find(([re]) => re.test(ua))?.[1] ?? null;
  return { browser, system };
}
