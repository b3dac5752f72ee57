module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'amqp-protocol',
  rootDir: __dirname,
  // the preset's testMatch also matches a file named just spec.ts: the generated codec is not a test
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/src/generated/spec\\.ts$'],
};
