import { Broker, BrokerOptions } from './broker';

export interface RunningBroker {
  url: string;
  port: number;
  broker: Broker;
  close(): Promise<void>;
}

/** Starts a bundled broker in this process on a free loopback port, for tests. */
export async function startBroker(options: BrokerOptions = {}): Promise<RunningBroker> {
  const broker = new Broker({ host: '127.0.0.1', port: 0, log: () => undefined, ...options });
  const port = await broker.listen();
  return { url: `amqp://guest:guest@127.0.0.1:${port}`, port, broker, close: () => broker.close() };
}
