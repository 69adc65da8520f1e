// The lint rules of docs/architecture.md (house rules), shown on fixtures: workflow files may not import Node
// built-ins or orchestrator code as values; type-only imports are fine.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { REPO_ROOT } from '../orchestrator/config/paths.ts';

const fixtures = join(REPO_ROOT, 'test', 'fixtures', 'lint', 'workflows');

async function lint(file: string) {
  const eslint = new ESLint({ cwd: REPO_ROOT, ignore: false });
  const [result] = await eslint.lintFiles([join(fixtures, file)]);
  return result!.messages.map((m) => ({ rule: m.ruleId, message: m.message }));
}

describe('lint rules for workflow code', () => {
  it('fails a workflow file that imports node:fs', async () => {
    const messages = await lint('imports-fs.ts');
    assert.ok(
      messages.some((m) => m.rule === '@typescript-eslint/no-restricted-imports' && /Node built-ins/.test(m.message)),
      JSON.stringify(messages),
    );
  });

  it('fails a workflow file that imports orchestrator code as a value', async () => {
    const messages = await lint('imports-orchestrator-value.ts');
    assert.ok(messages.some((m) => m.rule === '@typescript-eslint/no-restricted-imports' && /as types only/.test(m.message)), JSON.stringify(messages));
  });

  it('passes a workflow file that imports orchestrator code as types only', async () => {
    assert.deepEqual(await lint('imports-types-only.ts'), []);
  });
});

describe('the import-cycle check', () => {
  it('fails two modules that import each other', async () => {
    const eslint = new ESLint({ cwd: REPO_ROOT, ignore: false });
    const results = await eslint.lintFiles([join(REPO_ROOT, 'test', 'fixtures', 'lint', 'cycle', 'a.ts')]);
    assert.ok(results[0]!.messages.some((m) => m.ruleId === 'import-x/no-cycle'), JSON.stringify(results[0]!.messages));
  });
});
