// Shared jest settings: TypeScript through SWC (no type-check at test time; `npm run build` type-checks),
// workspace path aliases mapped to sources so tests run without a build.
const path = require('node:path');

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
      },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@warren/amqp-protocol$': path.join(__dirname, 'libs/amqp-protocol/src/index.ts'),
    '^@warren/messaging$': path.join(__dirname, 'libs/messaging/src/index.ts'),
    '^@warren/messaging/nest$': path.join(__dirname, 'libs/messaging/src/nest/index.ts'),
    '^@warren/messaging/typeorm$': path.join(__dirname, 'libs/messaging/src/typeorm.ts'),
    '^@warren/messaging/testing$': path.join(__dirname, 'libs/messaging/src/testing/index.ts'),
    '^@warren/contracts$': path.join(__dirname, 'libs/contracts/src/index.ts'),
    '^@warren/service-kit$': path.join(__dirname, 'libs/service-kit/src/index.ts'),
    '^@warren/service-kit/telemetry$': path.join(__dirname, 'libs/service-kit/src/telemetry.ts'),
  },
  testMatch: ['**/?(*.)+(spec|test).ts'],
};
