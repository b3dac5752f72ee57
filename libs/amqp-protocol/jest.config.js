module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'amqp-protocol',
  rootDir: __dirname,
};
