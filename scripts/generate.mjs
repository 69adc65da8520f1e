// Generates code that is not committed (docs/architecture.md, "Generated code"):
//   - the Prisma client  (prisma/schema.prisma  -> generated/prisma/)
//   - protobuf/gRPC types (proto/**/*.proto      -> generated/proto/)
// Each step runs only when its inputs changed (a hash stamp in generated/), so setup
// stays fast on every `npm test`.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'generated');
mkdirSync(out, { recursive: true });

function filesUnder(dir, ext) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p, ext) : p.endsWith(ext) ? [p] : [];
  }).sort();
}

function hashOf(files) {
  const h = createHash('sha256');
  for (const f of files) h.update(f).update(readFileSync(f));
  return h.digest('hex');
}

function step(name, inputs, outputDir, run) {
  const stamp = join(out, `.${name}.stamp`);
  const hash = hashOf(inputs);
  if (existsSync(stamp) && existsSync(outputDir) && readFileSync(stamp, 'utf8') === hash) return;
  process.stderr.write(`generate: ${name}\n`);
  run();
  writeFileSync(stamp, hash);
}

function sh(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
  if (r.status !== 0) {
    process.stderr.write(`generate: '${cmd} ${args.join(' ')}' failed\n`);
    process.exit(1);
  }
}

const bin = (name) => join(root, 'node_modules', '.bin', name);

step('prisma', [join(root, 'prisma', 'schema.prisma'), join(root, 'package-lock.json')], join(out, 'prisma'), () => {
  // prisma generate needs no schema engine, but the CLI insists on finding one unless this
  // variable names some existing file; the real engine (when present) is left alone.
  const engine = process.env.PRISMA_SCHEMA_ENGINE_BINARY && existsSync(process.env.PRISMA_SCHEMA_ENGINE_BINARY)
    ? process.env.PRISMA_SCHEMA_ENGINE_BINARY
    : process.execPath;
  sh(bin('prisma'), ['generate'], { PRISMA_SCHEMA_ENGINE_BINARY: engine, PRISMA_HIDE_UPDATE_MESSAGE: '1' });
});

const protos = filesUnder(join(root, 'proto'), '.proto');
if (protos.length > 0) {
  step('proto', [...protos, join(root, 'buf.gen.yaml'), join(root, 'package-lock.json')], join(out, 'proto'), () => {
    sh(bin('buf'), ['generate']);
  });
}
