/** Injection tokens of the console's server: `@Inject(CONFIG) config: ConsoleConfig`, `@Inject(SOURCES) sources: Sources`. */
export const CONFIG = Symbol('CONFIG');
export const SOURCES = Symbol('SOURCES');
