// @ts-check
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

const SERVICES = ['api-server', 'kuma-cp', 'kuma-dp', 'kumactl', 'projector', 'xds-gateway'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '**/*.mjs', 'eslint.config.js', 'vitest.config.ts', '.bench-results/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    // import-x must parse the .ts files it follows, or no-cycle silently finds nothing.
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs'] })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
    },
  },
  // Services import libs and never each other; kuma-cp alone composes them into one process.
  ...SERVICES.filter((s) => s !== 'kuma-cp').map((service) => ({
    files: [`services/${service}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: SERVICES.filter((other) => other !== service).map((other) => ({
            group: [`../${other}/**`, `**/services/${other}/**`],
            message: `services/${service} must not import services/${other}: move what they share to libs/ (services/kuma-cp composes services)`,
          })),
        },
      ],
    },
  })),
  {
    // Dependency direction: services -> libs, never the reverse.
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/services/**'], message: 'libs must not import from services' }] }],
    },
  },
);
