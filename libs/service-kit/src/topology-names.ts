/**
 * Exchange and queue names (docs/architecture.md: Messaging topology). WARREN_NAMESPACE, when set, prefixes every
 * name so several stacks (test suites, mostly) can share one broker without seeing each other's messages.
 */
export interface TopologyNames {
  eventsExchange: string;
  commandsExchange: string;
  /** `<service>.<purpose>`, namespaced. */
  queue(name: string): string;
}

export function topologyNames(env: NodeJS.ProcessEnv = process.env): TopologyNames {
  const ns = env.WARREN_NAMESPACE ? `${env.WARREN_NAMESPACE}.` : '';
  return {
    eventsExchange: `${ns}warren.events`,
    commandsExchange: `${ns}warren.commands`,
    queue: (name) => `${ns}${name}`,
  };
}
