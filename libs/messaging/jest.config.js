module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'messaging',
  rootDir: __dirname,
  // bundles the broker once and starts it for the suites that need no broker of their own
  globalSetup: '<rootDir>/../../tools/testing/broker-global-setup.mjs',
  globalTeardown: '<rootDir>/../../tools/testing/broker-global-teardown.mjs',
  testTimeout: 30_000,
};
