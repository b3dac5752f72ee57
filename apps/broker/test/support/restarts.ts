import * as amqp from 'amqplib';
import { startBroker } from '../../src/testing';

/**
 * One life of a broker on `dataDir`: starts it on `port` (0: any free one), runs `run` on a connection, then shuts
 * the broker down cleanly. Returns the port, so the next life comes back on the same one.
 */
export async function brokerLife<T>(
  dataDir: string,
  port: number,
  run: (conn: amqp.ChannelModel) => Promise<T>,
): Promise<{ result: T; port: number }> {
  const broker = await startBroker({ dataDir, port });
  const conn = await amqp.connect(broker.url);
  try {
    return { result: await run(conn), port: broker.port };
  } finally {
    await conn.close().catch(() => undefined);
    await broker.close();
  }
}
