export default async function globalTeardown() {
  await globalThis.__warrenBroker?.stop();
}
