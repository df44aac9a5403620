// Lint rules: typescript-eslint's recommended type-aware set, plus the layering of ARCHITECTURE.md.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const apiNeverCallsDocker = {
  group: ['dockerode', '**/vch/**', '../vch/*'],
  message: 'src/api never calls Docker: go through src/provider.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/env/controlplane/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      // Handlers are async by contract even when one body does not await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // src/api serves HTTP: it reaches the VCH only through provider interfaces.
    files: ['src/api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [apiNeverCallsDocker],
        },
      ],
    },
  },
  {
    // The wire protocols (SPDY, WebSocket channels, their shared errors) sit below the streaming glue
    // that joins them to exec, attach and port-forward: they never import it, so there is no cycle.
    files: ['src/api/spdy/**/*.ts', 'src/api/websocket/**/*.ts', 'src/api/transport/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            apiNeverCallsDocker,
            {
              group: ['**/streaming/**', '../streaming/*'],
              message: 'a wire protocol knows nothing of the streaming glue above it.',
            },
          ],
        },
      ],
    },
  },
  {
    // src/vch knows no Kubernetes client and nothing above it.
    files: ['src/vch/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@kubernetes/*', '**/provider/**', '**/api/**', '**/cli/**'],
              message: 'src/vch is the bottom layer.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
