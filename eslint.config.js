import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', '.cache/**', 'node_modules/**', 'coverage/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The product boundary: what ships (src/) never depends on the test beds, stand-ins,
    // benchmark or demo beside it, nor on the tests.
    files: ['src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/tools/**', '**/tools'], message: 'src/ is the product alone: it must not import tools/ (test beds, stand-ins, benchmark, demo).' },
            { group: ['**/test/**', '**/test'], message: 'src/ must not import the tests.' },
          ],
        },
      ],
    },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // The Slack playground's page script runs in the browser, not in Node.
    files: ['tools/slack-standin/playground/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser } },
  },
);
