module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'inventory',
  rootDir: __dirname,
  // bundles the broker once and starts it; the suites read WARREN_TEST_BROKER_URL
  globalSetup: '<rootDir>/../../tools/testing/broker-global-setup.mjs',
  globalTeardown: '<rootDir>/../../tools/testing/broker-global-teardown.mjs',
  testTimeout: 30_000,
};
