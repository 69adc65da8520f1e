/**
 * Where faithsweep keeps things on disk. Resolved once at the entry point from the
 * environment and passed down as a frozen object.
 */
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder holding package.json). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Filesystem locations used by the CLI and the local stack. */
export interface Paths {
  /** Root of the checkout. */
  readonly repoRoot: string;
  /** State of the embedded local stack. @default `<repo>/.faithsweep` (env `FAITHSWEEP_HOME`) */
  readonly home: string;
  /** Per-user cache outside the checkout (Temporal CLI build). @default `$XDG_CACHE_HOME/faithsweep` or `~/.cache/faithsweep` (env `FAITHSWEEP_CACHE_DIR`) */
  readonly cacheDir: string;
  /** Bundled model organisms. @default `<repo>/models` (env `FAITHSWEEP_MODELS`) */
  readonly modelsDir: string;
  /** SQL migrations in Prisma's format. */
  readonly migrationsDir: string;
}

/** Resolves {@link Paths} from an environment (normally `process.env`, read only at entry points). */
export function resolvePaths(env: Readonly<Record<string, string | undefined>>): Paths {
  const cacheBase = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return Object.freeze({
    repoRoot: REPO_ROOT,
    home: resolve(env['FAITHSWEEP_HOME'] || join(REPO_ROOT, '.faithsweep')),
    cacheDir: resolve(env['FAITHSWEEP_CACHE_DIR'] || join(cacheBase, 'faithsweep')),
    modelsDir: resolve(env['FAITHSWEEP_MODELS'] || join(REPO_ROOT, 'models')),
    migrationsDir: join(REPO_ROOT, 'prisma', 'migrations'),
  });
}
