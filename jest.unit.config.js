/**
 * The specs next to the code (`lib/**\/*.spec.ts`): no database, no Redis, seconds.
 * `npm run test:unit`; `npm test` runs them too, with the e2e suite.
 * @type {import('jest').Config}
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/lib'],
  testRegex: '\\.spec\\.ts$',
  globalSetup: undefined,
  globalTeardown: undefined,
};
