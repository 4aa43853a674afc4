// Lints the TypeScript sources and tests; fixtures and bench scripts are plain JS apps.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/fixtures/**', 'examples/**', 'bench/**', '.crashless/**', '.scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [{ group: ['fs', 'path', 'http', 'net', 'os', 'url', 'worker_threads', 'child_process', 'crypto', 'events', 'stream', 'util', 'async_hooks'], message: 'Use the node: prefix.' }] }],
    },
  },
  // The dashboard's script runs in the browser, as a classic script.
  { files: ['dashboard/**/*.js'], languageOptions: { sourceType: 'script', globals: { ...globals.browser } } },
)
