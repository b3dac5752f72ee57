module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'smtp-capture',
  rootDir: __dirname,
};
