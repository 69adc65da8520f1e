/** Locates the headless browser the report tests drive (Debian's `chromium`, installed by scripts/setup). */
import { execFileSync } from 'node:child_process';

/** FAITHSWEEP_CHROMIUM, else `chromium` / `chromium-browser` on PATH; throws with what to install. */
export function chromiumPath(): string {
  const configured = process.env['FAITHSWEEP_CHROMIUM'];
  if (configured) return configured;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    } catch {
      // try the next name
    }
  }
  throw new Error('chromium not found: run scripts/setup (Debian: apt-get install chromium) or set FAITHSWEEP_CHROMIUM');
}
