// The house rules of docs/architecture.md: type-only imports, no floating promises, no import
// cycles, and a deterministic sandbox for workflow code.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

/** Imports that would make workflow code non-deterministic or drag in I/O. */
const workflowBannedPatterns = [
  {
    group: ['node:*', ...builtinModules, ...builtinModules.map((m) => `${m}/*`)],
    message: 'Workflow code runs in a deterministic sandbox: Node built-ins are not allowed.',
  },
  {
    group: ['@prisma/*', '**/generated/prisma/**', 'pg', '@grpc/*', 'onnxruntime-node', 'onnxruntime-*', '@nats-io/*'],
    message: 'Workflow code must not do I/O: call an activity instead.',
    allowTypeImports: true,
  },
  {
    group: ['**/orchestrator/**', '**/node-agent/**', '../orchestrator', '../node-agent'],
    message: 'Workflows may import orchestrator/ and node-agent/ code as types only (import type).',
    allowTypeImports: true,
  },
];

/**
 * The agent/orchestrator boundary (docs/architecture.md, "The boundary"): node-agent/ and
 * orchestrator/ never load each other's code; what both need lives in common/, which loads
 * neither. Type-only imports across are allowed (they load nothing at run time); the
 * composition root bin/main.ts and the tests under test/ may import both sides.
 */
const boundaryMessage = (from, to) =>
  `${from}/ must not import ${to}/ code as a value (the boundary of docs/architecture.md): move what both sides need to common/, or pass it in from the composition root bin/main.ts.`;
const boundaryRules = [
  {
    files: ['node-agent/**/*.ts', 'test/fixtures/lint/boundary/node-agent/*.ts'],
    patterns: [{ group: ['**/orchestrator/**', '**/orchestrator'], message: boundaryMessage('node-agent', 'orchestrator'), allowTypeImports: true }],
  },
  {
    files: ['orchestrator/**/*.ts', 'test/fixtures/lint/boundary/orchestrator/*.ts'],
    patterns: [{ group: ['**/node-agent/**', '**/node-agent'], message: boundaryMessage('orchestrator', 'node-agent'), allowTypeImports: true }],
  },
  {
    files: ['common/**/*.ts', 'test/fixtures/lint/boundary/common/*.ts'],
    patterns: [{
      group: ['**/orchestrator/**', '**/orchestrator', '**/node-agent/**', '**/node-agent', '**/workflows/**', '**/workflows'],
      message: 'common/ is shared by the agent and the orchestrator and imports neither (nor workflows/), not even types (docs/architecture.md, "The boundary").',
    }],
  },
].map(({ files, patterns }) => ({
  files,
  rules: { 'no-restricted-imports': 'off', '@typescript-eslint/no-restricted-imports': ['error', { patterns }] },
}));

export default tseslint.config(
  { ignores: ['node_modules/**', 'generated/**', 'models/**', '.faithsweep/**', 'test/fixtures/**', 'test/artifacts/**', '**/*.js', '**/*.mjs', '!orchestrator/results/report-client.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        // Lint fixtures live outside tsconfig's include; they get the default project.
        projectService: {
          allowDefaultProject: ['test/fixtures/lint/workflows/*.ts', 'test/fixtures/lint/cycle/*.ts', 'test/fixtures/lint/boundary/*/*.ts'],
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 16,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'] })],
      // no-cycle parses the imported files too: tell it how to read TypeScript.
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner itself tracks.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    files: ['workflows/**/*.ts', 'test/fixtures/lint/workflows/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: workflowBannedPatterns }],
      'no-restricted-globals': ['error',
        { name: 'process', message: 'Workflow code cannot read process state.' },
        { name: 'setImmediate', message: 'Use workflow sleep/condition.' },
      ],
    },
  },
  ...boundaryRules,
  {
    // The report's page script runs in a browser (inlined by report-html.ts); tsconfig.report-client.json type-checks it.
    files: ['orchestrator/results/report-client.js'],
    languageOptions: {
      sourceType: 'script',
      globals: Object.fromEntries(['document', 'window', 'console', 'getComputedStyle', 'requestAnimationFrame', 'URLSearchParams', 'location', 'Event', 'HTMLElement', 'SVGElement'].map((g) => [g, 'readonly'])),
    },
    rules: { '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }] },
  },
);
