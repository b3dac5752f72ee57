import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';

/** A message a tap received: its routing key, type and parsed body. */
export interface Tapped {
  queue: string;
  routingKey: string;
  type?: string;
  messageId?: string;
  payload: unknown;
}

/**
 * The console's own listener on the broker for a scenario: exclusive, auto-deleted queues bound to an exchange
 * (a subscriber of its own, beside the services'), on one connection named so the topology shows whose they
 * are. Closing the connection deletes the queues: nothing is left behind, even after a crash.
 */
export class AmqpTap {
  readonly received: Tapped[] = [];

  private constructor(
    private readonly model: ChannelModel,
    private readonly channel: Channel,
  ) {}

  /** `url`: one AMQP URL, or several separated by commas (a cluster's nodes), tried in turn until one answers. */
  static async open(url: string, connectionName: string): Promise<AmqpTap> {
    const model = await connectFirst(url.split(','), connectionName);
    model.on('error', () => undefined); // a broker going away is seen as a failed wait, not a crash
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    return new AmqpTap(model, channel);
  }

  /** Declares `queue` (exclusive, auto-delete), binds it to `exchange` with each pattern, and records what arrives. */
  async listen(queue: string, exchange: string, patterns: string[]): Promise<void> {
    await this.channel.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false });
    for (const pattern of patterns) await this.channel.bindQueue(queue, exchange, pattern);
    await this.channel.consume(
      queue,
      (m: ConsumeMessage | null) => {
        if (!m) return;
        this.received.push({
          queue,
          routingKey: m.fields.routingKey,
          type: m.properties.type as string | undefined,
          messageId: m.properties.messageId as string | undefined,
          payload: parse(m.content),
        });
      },
      { noAck: true },
    );
  }

  /** What one of its queues received. */
  on(queue: string): Tapped[] {
    return this.received.filter((t) => t.queue === queue);
  }

  /** Deletes a queue the scenario made through the library (durable ones); a queue already gone is fine. */
  async deleteQueue(queue: string): Promise<void> {
    // a channel per deletion: a broker may close the channel over a name it does not know
    const ch = await this.model.createChannel();
    ch.on('error', () => undefined);
    await ch.deleteQueue(queue).catch(() => undefined);
    await ch.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.model.close().catch(() => undefined);
  }
}

function parse(content: Buffer): unknown {
  try {
    return JSON.parse(content.toString('utf8'));
  } catch {
    return content.toString('utf8');
  }
}

async function connectFirst(urls: string[], connectionName: string): Promise<ChannelModel> {
  let last: Error | undefined;
  for (const url of urls) {
    try {
      return await connect(url, { clientProperties: { connection_name: connectionName }, timeout: 10_000 });
    } catch (err) {
      last = err as Error;
    }
  }
  throw last ?? new Error('no broker URL');
}
