export interface SpawnedBroker {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly dataDir: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
  restart(signal?: NodeJS.Signals): Promise<void>;
}
export function spawnBroker(opts?: { entry?: string; port?: number; dataDir?: string }): Promise<SpawnedBroker>;
