// Writes docs/spec.schema.json, the published JSON Schema of sweep specs, from the spec's one
// zod schema (orchestrator/sweep/spec-schema.ts) with zod's z.toJSONSchema. Run it after
// changing the schema: `npm run spec-schema`; with --check it only says whether the committed
// file is current (exit 1 when stale). orchestrator/sweep/spec-schema.test.ts checks it too.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../common/config/paths.ts';
import { specJsonSchemaText } from '../orchestrator/sweep/spec-schema.ts';

const path = join(REPO_ROOT, 'docs', 'spec.schema.json');
const text = specJsonSchemaText();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    // missing: stale
  }
  if (current !== text) {
    process.stderr.write('docs/spec.schema.json is stale: run npm run spec-schema\n');
    process.exit(1);
  }
} else {
  writeFileSync(path, text);
  process.stderr.write('wrote docs/spec.schema.json\n');
}
