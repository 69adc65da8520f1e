// The lint rules of docs/architecture.md (house rules), shown on fixtures: workflow files may not import Node
// built-ins or orchestrator code as values; type-only imports are fine. The agent/orchestrator boundary:
// neither side imports the other's code as a value, and common/ imports neither.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { REPO_ROOT } from '../common/config/paths.ts';

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

describe('the agent/orchestrator boundary', () => {
  const boundary = join(REPO_ROOT, 'test', 'fixtures', 'lint', 'boundary');
  async function lintBoundary(file: string) {
    const eslint = new ESLint({ cwd: REPO_ROOT, ignore: false });
    const [result] = await eslint.lintFiles([join(boundary, file)]);
    return result!.messages.map((m) => ({ rule: m.ruleId, message: m.message }));
  }
  const refused = (messages: { rule: string | null; message: string }[], pattern: RegExp) =>
    messages.some((m) => m.rule === '@typescript-eslint/no-restricted-imports' && pattern.test(m.message));

  it('fails agent code that imports orchestrator code as a value', async () => {
    const messages = await lintBoundary('node-agent/imports-orchestrator-value.ts');
    assert.ok(refused(messages, /node-agent\/ must not import orchestrator\/ code as a value/), JSON.stringify(messages));
  });

  it('fails orchestrator code that imports agent code as a value', async () => {
    const messages = await lintBoundary('orchestrator/imports-node-agent-value.ts');
    assert.ok(refused(messages, /orchestrator\/ must not import node-agent\/ code as a value/), JSON.stringify(messages));
  });

  it('passes either side importing common/ code and the types of the other side', async () => {
    assert.deepEqual(await lintBoundary('node-agent/imports-types-and-common.ts'), []);
    assert.deepEqual(await lintBoundary('orchestrator/imports-types-and-common.ts'), []);
  });

  it('fails shared code in common/ that imports either side, even as a type', async () => {
    const messages = await lintBoundary('common/imports-node-agent-type.ts');
    assert.ok(refused(messages, /common\/ is shared/), JSON.stringify(messages));
  });
});
