import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.local*/',
      '.serverless/',
      '.esbuild/',
      'coverage/',
      'test-artifacts/',
      'web/dist/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/ban-ts-comment': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'it', property: 'only' },
        { object: 'it', property: 'skip' },
        { object: 'describe', property: 'only' },
        { object: 'describe', property: 'skip' },
        { object: 'test', property: 'only' },
        { object: 'test', property: 'skip' },
      ],
    },
  },
  {
    files: ['lib/**/*.ts', 'handlers/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
  {
    // The domain declares the ports it needs (lib/domain/ports.ts) and knows nothing of how
    // they are met: no adapter, SDK, middleware or Lambda type reaches it.
    files: ['lib/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/persistence', '**/persistence/**', '**/payouts/**', '**/middleware/**'],
              message: 'lib/domain declares ports; adapters implement them outside it.',
            },
            {
              group: ['**/service', '**/config', '**/logger', '**/metrics', '**/http-schemas'],
              message: 'lib/domain is wired from lib/service.ts, never the other way round.',
            },
            {
              group: ['@aws-sdk/*', '@middy/*', 'aws-lambda', '@aws-lambda-powertools/*'],
              message: 'lib/domain knows nothing of AWS, middy or Lambda: declare a port.',
            },
          ],
        },
      ],
    },
  },
);
