/** @type {import('jest').Config} */
module.exports = {
  rootDir: '.',
  roots: ['<rootDir>/lib', '<rootDir>/test'],
  testRegex: '(\\.spec|\\.e2e-spec)\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }],
  },
  moduleNameMapper: { '^nestjs-data-export$': '<rootDir>/lib', '^nestjs-data-export/http$': '<rootDir>/lib/http', '^nestjs-data-export/s3$': '<rootDir>/lib/s3', '^nestjs-data-export/express$': '<rootDir>/lib/express' },
  testEnvironment: 'node',
  testTimeout: 60000,
  globalSetup: '<rootDir>/test/utils/global-setup.ts',
  globalTeardown: '<rootDir>/test/utils/global-teardown.ts',
};
