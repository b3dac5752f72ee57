/** Injection tokens of the console's server: `@Inject(CONFIG) config: ConsoleConfig`, `@Inject(SOURCES) sources: Sources`, `@Inject(TRACES) traces: TraceReceiver`. */
export const CONFIG = Symbol('CONFIG');
export const SOURCES = Symbol('SOURCES');
export const TRACES = Symbol('TRACES');
