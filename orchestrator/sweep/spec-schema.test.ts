// The published JSON Schema (docs/spec.schema.json): generated from the spec's one zod schema,
// current, and checked with an independent validator (ajv) against the bundled examples.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { REPO_ROOT } from '../../common/config/paths.ts';
import { specJsonSchemaText } from './spec-schema.ts';
import { parseSpec } from './spec.ts';

const published = readFileSync(join(REPO_ROOT, 'docs', 'spec.schema.json'), 'utf8');
const validate = new Ajv2020({ allErrors: true }).compile(JSON.parse(published) as object);
const examples = readdirSync(join(REPO_ROOT, 'examples')).filter((f) => f.endsWith('.yaml')).sort();

function errors(doc: unknown): string[] {
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

describe('docs/spec.schema.json', () => {
  it('is the JSON Schema of the zod spec schema as generated now (run npm run spec-schema when this fails)', () => {
    assert.equal(published, specJsonSchemaText());
  });

  it('validates every examples/*.yaml, which also parse, and which point editors at it', () => {
    assert.ok(examples.length >= 2, examples.join(', '));
    for (const f of examples) {
      const text = readFileSync(join(REPO_ROOT, 'examples', f), 'utf8');
      assert.deepEqual(errors(parse(text)), [], f);
      parseSpec(text, f);
      assert.match(text.split('\n')[0]!, /^# yaml-language-server: \$schema=\.\.\/docs\/spec\.schema\.json$/, f);
    }
  });

  it('rejects a spec with an unknown key, at any depth, as parseSpec does', () => {
    const demo = parse(readFileSync(join(REPO_ROOT, 'examples', 'demo.yaml'), 'utf8')) as Record<string, unknown>;
    assert.ok(errors({ ...demo, sedes: [0] }).some((e) => e.includes('additional properties') && e.includes('sedes')));
    const grid = demo['grid'] as Record<string, unknown>;
    assert.ok(errors({ ...demo, grid: { ...grid, kindz: ['probe'] } }).some((e) => e.includes('kindz')));
    assert.throws(() => parseSpec(`${readFileSync(join(REPO_ROOT, 'examples', 'demo.yaml'), 'utf8')}sedes: [0]\n`, 'demo.yaml'), /\(spec\)\.sedes: unknown key/);
  });

  it('rejects the out-of-range values parseSpec rejects: a seed beyond int4, a negative seed, a window beyond its maximum', () => {
    const demo = parse(readFileSync(join(REPO_ROOT, 'examples', 'demo.yaml'), 'utf8')) as Record<string, unknown>;
    assert.notDeepEqual(errors({ ...demo, seeds: [7_000_000_000] }), []);
    assert.notDeepEqual(errors({ ...demo, seeds: [-1] }), []);
    assert.notDeepEqual(errors({ ...demo, options: { window: 1_000_000_000 } }), []);
    assert.deepEqual(errors({ ...demo, seeds: [2147483647], options: { window: 1000 } }), []);
  });
});
