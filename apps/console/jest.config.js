module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'console',
  rootDir: __dirname,
  globalSetup: '<rootDir>/../../tools/testing/broker-global-setup.mjs',
  globalTeardown: '<rootDir>/../../tools/testing/broker-global-teardown.mjs',
  testTimeout: 30_000,
};
