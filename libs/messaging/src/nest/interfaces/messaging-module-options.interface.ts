import type { ModuleMetadata } from '@nestjs/common';
import type { MessagingOptions } from '../../core/options';
import type { MessagingServerOptions } from './messaging-server-options.interface';

export interface MessagingModuleOptions extends MessagingOptions {
  /** How MessagingServer turns the app's @EventPattern / @MessagePattern handlers into consumers. */
  server?: MessagingServerOptions;
}

export interface MessagingModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Nest injects whatever `inject` names
  useFactory: (...args: any[]) => MessagingModuleOptions | Promise<MessagingModuleOptions>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- provider tokens: classes, strings, symbols
  inject?: any[];
}
