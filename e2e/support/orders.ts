// Orders over HTTP, as a customer places them: place one, wait for it to settle.
import { eventually, http, type Stack } from './stack';

export async function placeOrder(
  stack: Stack,
  customerEmail: string,
  items: Array<{ sku: string; quantity: number }>,
): Promise<string> {
  const res = await http('POST', `${stack.url('orders')}/orders`, { customerEmail, items });
  if (res.status !== 201) throw new Error(`POST /orders answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** Waits until the order is CONFIRMED or CANCELLED; on a timeout the error carries the services' logs. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the order as GET /orders/:id documents it
export function settled(stack: Stack, id: string, timeoutMs = 30_000): Promise<any> {
  return eventually(
    `order ${id} to settle`,
    async () => {
      const o = (await http('GET', `${stack.url('orders')}/orders/${id}`)).body;
      return o.status && o.status !== 'PENDING' ? o : undefined;
    },
    timeoutMs,
    100,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${stack.logs()}`);
  });
}
