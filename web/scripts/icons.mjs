// Renders the app's icons (public/icon-192.png, icon-512.png, maskable-512.png) from
// public/favicon.svg with Debian's Chromium. Run by hand when the logo changes:
//   node scripts/icons.mjs
import { chromium } from 'playwright-core';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

const dir = path.resolve(import.meta.dirname, '../public');
const svg = await readFile(path.join(dir, 'favicon.svg'), 'utf8');
const browser = await chromium.launch({ executablePath: process.env.NJ_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage();
for (const [name, size, padding, background] of [
  ['icon-192.png', 192, 0, 'transparent'],
  ['icon-512.png', 512, 0, 'transparent'],
  // Maskable: the logo inside the safe zone (80 %), on the brand colour to the edges.
  ['maskable-512.png', 512, 0.1, '#1f2a44'],
]) {
  await page.setViewportSize({ width: size, height: size });
  const inner = Math.round(size * (1 - 2 * padding));
  await page.setContent(
    `<html><body style="margin:0;background:${background}"><div style="width:${size}px;height:${size}px;display:flex;align-items:center;justify-content:center">` +
      svg.replace('<svg ', `<svg width="${inner}" height="${inner}" `) +
      '</div></body></html>',
  );
  await page.screenshot({ path: path.join(dir, name), omitBackground: background === 'transparent' });
}
await browser.close();
