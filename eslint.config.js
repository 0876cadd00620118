// Type-aware lint: a floating tensor.data() promise is a bug, so no-floating-promises is on.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'figures/**', 'bin/**', 'coverage/**', 'docs/api/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['src/cli/**', 'scripts/**', 'bench/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // Commands parse through src/cli/args.ts (did-you-mean, retired flags), never node:util directly.
    files: ['src/cli/commands/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'node:util', importNames: ['parseArgs'], message: "use parseArgs from '../args.js': it names the nearest known option for a typo and the new name of a renamed flag" }] }],
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
