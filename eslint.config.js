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

export default tseslint.config(
  { ignores: ['node_modules/**', 'generated/**', 'models/**', '.faithsweep/**', 'test/fixtures/**', 'test/artifacts/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        // Lint fixtures live outside tsconfig's include; they get the default project.
        projectService: { allowDefaultProject: ['test/fixtures/lint/workflows/*.ts', 'test/fixtures/lint/cycle/*.ts'] },
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
);
