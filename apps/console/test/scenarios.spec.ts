// The guided scenarios: the runner (one at a time, a time budget, undo steps, refusals with the reason), the
// API (list, 404, 409, a run narrated on the live stream), and the scenarios end to end against the services
// as real processes on the bundled broker (e2e/support/stack.ts starts them).
import 'reflect-metadata';
import { ConflictException, NotFoundException, type INestApplication } from '@nestjs/common';
import { DeadLetterQueue } from '@warren/messaging';
import { topologyNames } from '@warren/service-kit';
import type { CurrentScenario, ScenarioInfo, ScenarioRun } from '../src/contracts/scenarios';
import { readConsoleConfig, type ConsoleConfig } from '../src/server/config';
import { Controls } from '../src/server/controls';
import type { Scenario } from '../src/server/scenarios/scenario';
import { ScenarioFailure } from '../src/server/scenarios/scenario-failure.error';
import { ScenarioRunner } from '../src/server/scenarios/scenario-runner';
import { ScenarioSource } from '../src/server/scenarios/scenario-source';
import { eventually } from '../../../tools/testing/eventually';
import { startDemo, type RunningDemo } from '../../../tools/testing/demo';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the e2e suites' Stack runs the services as processes, as the demo does (tests only)
import { adminHeaders, ADMIN_TOKEN, Stack } from '../../../e2e/support/stack';
import { startBroker, type LiveBroker } from './support/broker';
import { closedUrl, listen, startConsole, type StreamClient } from './support/console';

function runnerWith(scenarios: Scenario[], config: ConsoleConfig = readConsoleConfig({})) {
  const source = new ScenarioSource();
  const runner = new ScenarioRunner(scenarios, config, topologyNames({}), source, new Controls(config));
  const pushed: CurrentScenario[] = [];
  source.subscribe((s) => void (s.status === 'ok' && pushed.push(s.data as CurrentScenario)));
  const finished = () =>
    eventually(
      'the run to end',
      () => (runner.run && runner.run.state !== 'running' && !runner.running ? runner.run : undefined),
      15_000,
    );
  return { runner, source, pushed, finished };
}

describe('the scenario runner', () => {
  it('runs one scenario at a time: another start is refused with 409 until the first is over', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: Scenario = {
      id: 'saga',
      title: 'Slow one',
      shows: 'waits for the test',
      budgetMs: 10_000,
      async run(ctx) {
        ctx.say('waiting for the test', 'orders');
        await gate;
        ctx.say('released');
        return 'it ran, alone';
      },
    };
    const other: Scenario = { ...slow, id: 'rpc', title: 'Other', run: async () => 'other ran' };
    const { runner, pushed, finished } = runnerWith([slow, other]);
    expect(runner.start('saga')).toMatchObject({ id: 'saga', title: 'Slow one', state: 'running' });
    expect(() => runner.start('rpc')).toThrow(ConflictException);
    expect(() => runner.start('saga')).toThrow("'Slow one' is running; one scenario runs at a time");
    release();
    expect(await finished()).toMatchObject({
      id: 'saga',
      state: 'passed',
      result: 'it ran, alone',
      steps: [{ text: 'waiting for the test', watch: 'orders' }, { text: 'released' }],
    });
    // every step was pushed to the live stream as it was said, then the verdict
    expect(pushed.map((p) => p && [p.state, p.steps.length])).toEqual([
      null,
      ['running', 1],
      ['running', 2],
      ['passed', 2],
    ]);
    runner.start('rpc');
    expect(await finished()).toMatchObject({ id: 'rpc', state: 'passed', result: 'other ran' });
  });

  it('refuses an unknown scenario with 404', () => {
    const { runner } = runnerWith([]);
    expect(() => runner.start('teleport')).toThrow(NotFoundException);
    expect(() => runner.start('teleport')).toThrow("no scenario 'teleport'; GET /api/scenarios lists them");
  });

  it('fails a scenario over its time budget with a line saying what it waited for, and still runs its undo steps', async () => {
    const undone: string[] = [];
    const stuck: Scenario = {
      id: 'retry',
      title: 'Stuck',
      shows: 'never finishes',
      budgetMs: 300,
      async run(ctx) {
        ctx.finally('the gateway', async () => void undone.push('gateway'));
        ctx.say('waiting for Godot');
        await ctx.waitFor('Godot', () => undefined, 60_000);
        return 'unreachable';
      },
    };
    const { runner, finished } = runnerWith([stuck]);
    const started = Date.now();
    runner.start('retry');
    const run = await finished();
    expect(Date.now() - started).toBeLessThan(3000);
    const expected = "Stopped: 'Stuck' did not finish within its 300 ms; it was still waiting for Godot.";
    expect(run).toMatchObject({ state: 'failed', result: expected });
    expect(run.steps.map((s) => s.text)).toEqual(['waiting for Godot', expected, 'Put back: the gateway.']);
    expect(undone).toEqual(['gateway']);
  });

  it('fails with the scenario’s own verdict line, and says when an undo step could not be done', async () => {
    const failing: Scenario = {
      id: 'routing',
      title: 'Wrong',
      shows: 'finds the wrong thing',
      budgetMs: 5000,
      async run(ctx) {
        ctx.finally('the routing queues', () => Promise.reject(new Error('the broker is gone')));
        throw new ScenarioFailure('The clicks-only queue got 3 events, not just the 2 clicks.');
      },
    };
    const { runner, finished } = runnerWith([failing]);
    runner.start('routing');
    const run = await finished();
    expect(run).toMatchObject({
      state: 'failed',
      result: 'The clicks-only queue got 3 events, not just the 2 clicks.',
    });
    expect(run.steps.map((s) => s.text)).toEqual([
      'The clicks-only queue got 3 events, not just the 2 clicks.',
      'Could not put back the routing queues: the broker is gone',
    ]);
  });

  it('lists a scenario it cannot run here as unavailable with the reason, and refuses to start it with 409', () => {
    const needsDemo: Scenario = {
      id: 'broker-restart',
      title: 'Restart',
      shows: 'restarts the broker',
      budgetMs: 1000,
      requires: ['process-control'],
      run: async () => 'ran',
    };
    const needsToken: Scenario = { ...needsDemo, id: 'retry', title: 'Retry', requires: ['admin-token'] };
    const { runner } = runnerWith([needsDemo, needsToken]);
    expect(runner.list()).toEqual([
      {
        id: 'broker-restart',
        title: 'Restart',
        shows: 'restarts the broker',
        budgetSeconds: 1,
        available: false,
        reason: expect.stringMatching(/^Available only in the local demo \(npm run demo\)/),
      },
      {
        id: 'retry',
        title: 'Retry',
        shows: 'restarts the broker',
        budgetSeconds: 1,
        available: false,
        reason: expect.stringMatching(/admin token \(ADMIN_TOKEN\)/),
      },
    ]);
    expect(() => runner.start('broker-restart')).toThrow(
      /^'Restart' cannot run here\. Available only in the local demo/,
    );
    expect(runner.running).toBe(false);
    const withDemo = runnerWith(
      [needsDemo],
      readConsoleConfig({ DEMO_CONTROL_URL: 'http://127.0.0.1:8090', ADMIN_TOKEN: 't' }),
    );
    expect(withDemo.runner.list()[0]).toMatchObject({ available: true });
    expect(withDemo.runner.list()[0].reason).toBeUndefined();
  });
});

async function call(method: string, url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Waits for the current run to end, then for the runner to be free again. */
async function finishedRun(base: string, timeoutMs: number): Promise<ScenarioRun> {
  return eventually(
    'the scenario to finish',
    async () => {
      const { run } = (await call('GET', `${base}/api/scenarios/current`)).body as { run: ScenarioRun | null };
      return run && run.state !== 'running' ? run : undefined;
    },
    timeoutMs,
    250,
  );
}

describe('the scenarios API, with nothing behind it (compose without the demo: no control API, no admin token)', () => {
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    // every HTTP upstream at a closed port (support/console), and the broker's AMQP port closed too
    ({ app, base } = await startConsole({
      CONSOLE_POLL_MS: '500',
      AMQP_URL: `amqp://guest:guest@127.0.0.1:${new URL(await closedUrl()).port}`,
    }));
  });
  afterAll(() => app?.close());

  it('lists every pattern, with the ones that need the demo or the admin token unavailable and why', async () => {
    const { status, body } = await call('GET', `${base}/api/scenarios`);
    expect(status).toBe(200);
    const list = body as ScenarioInfo[];
    expect(list.map((s) => s.id)).toEqual([
      'saga',
      'competing-consumers',
      'pub-sub',
      'routing',
      'rpc',
      'retry',
      'poison-message',
      'consumer-killed',
      'broker-restart',
      'rate-limit',
      'clickstream',
    ]);
    const unavailable = Object.fromEntries(list.filter((s) => !s.available).map((s) => [s.id, s.reason]));
    expect(Object.keys(unavailable).sort()).toEqual([
      'broker-restart',
      'competing-consumers',
      'consumer-killed',
      'retry',
    ]);
    expect(unavailable['broker-restart']).toMatch(/^Available only in the local demo/);
    expect(unavailable.retry).toMatch(/ADMIN_TOKEN/);
    for (const s of list) expect(s.shows.length).toBeGreaterThan(20);
    expect((await call('GET', `${base}/api/scenarios/current`)).body).toEqual({ run: null });
  });

  it('answers 404 for an unknown scenario, 409 with the reason for one that cannot run here', async () => {
    expect(await call('POST', `${base}/api/scenarios/teleport/run`)).toMatchObject({
      status: 404,
      body: { message: "no scenario 'teleport'; GET /api/scenarios lists them" },
    });
    const refused = await call('POST', `${base}/api/scenarios/competing-consumers/run`);
    expect(refused).toMatchObject({
      status: 409,
      body: {
        message: expect.stringMatching(/^'Competing consumers' cannot run here\. Available only in the local demo/),
      },
    });
    expect((await call('POST', `${base}/api/scenarios/${'x'.repeat(101)}/run`)).status).toBe(400);
  });

  it('fails a run whose services do not answer with a line naming the one that did not', async () => {
    const started = await call('POST', `${base}/api/scenarios/saga/run`);
    expect(started).toMatchObject({
      status: 202,
      body: { id: 'saga', title: 'Saga across services', state: 'running' },
    });
    const run = await finishedRun(base, 15_000);
    expect(run.state).toBe('failed');
    expect(run.result).toMatch(/^Failed: GET http:\/\/127\.0\.0\.1:\d+\/stock failed \(ECONNREFUSED\)$/);
    expect(run.steps.at(-1)?.text).toBe(run.result);
  });
});

/** The runs a browser on /api/stream was told of (its `scenario` events that carry one), in order. */
const scenarioRuns = (client: StreamClient): ScenarioRun[] =>
  client.events.filter((e) => e.type === 'scenario' && e.data.data).map((e) => e.data.data);

describe('the scenarios against the services as processes (bundled broker)', () => {
  let broker: LiveBroker;
  let stack: Stack;
  let app: INestApplication;
  let base: string;
  const saved = process.env.WARREN_NAMESPACE;

  beforeAll(async () => {
    broker = await startBroker();
    stack = new Stack(
      broker.amqpUrl,
      {},
      { services: ['orders', 'inventory', 'payments', 'notifications', 'analytics'] },
    );
    await stack.start();
    // the console reads the services' names (WARREN_NAMESPACE) as they do, when it starts
    process.env.WARREN_NAMESPACE = stack.namespace;
    ({ app, base } = await startConsole({
      CONSOLE_POLL_MS: '500',
      AMQP_MANAGEMENT_URL: broker.managementUrl,
      AMQP_URL: broker.amqpUrl,
      ...stack.consoleEnv(),
      ADMIN_TOKEN,
    }));
  }, 240_000);
  afterAll(async () => {
    await app?.close();
    if (saved === undefined) delete process.env.WARREN_NAMESPACE;
    else process.env.WARREN_NAMESPACE = saved;
    await stack?.teardown();
    await broker?.stop();
  }, 60_000);

  /** Runs a scenario through the API and returns its finished run (with the services' logs when it failed). */
  const run = async (id: string, timeoutMs = 90_000): Promise<ScenarioRun> => {
    expect(await call('POST', `${base}/api/scenarios/${id}/run`)).toMatchObject({
      status: 202,
      body: { id, state: 'running' },
    });
    const done = await finishedRun(base, timeoutMs);
    if (done.state !== 'passed')
      throw new Error(
        `${id} ${done.state}: ${done.result}\n${done.steps.map((s) => `  ${s.text}`).join('\n')}\n${stack.logs()}`,
      );
    return done;
  };
  const scenarioQueues = async () =>
    (
      (await (
        await fetch(`${broker.managementUrl.replace('guest:guest@', '')}/api/queues`, {
          headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
        })
      ).json()) as Array<{ name: string }>
    )
      .map((q) => q.name)
      .filter((n) => n.includes('console.scenario'));

  it('poison message: parked in the DLQ, the queue keeps going, replayed and parked again; narrated live; a second run refused meanwhile', async () => {
    const browser = await listen(base);
    try {
      expect(await call('POST', `${base}/api/scenarios/poison-message/run`)).toMatchObject({ status: 202 });
      expect(await call('POST', `${base}/api/scenarios/routing/run`)).toMatchObject({
        status: 409,
        body: { message: "'Poison message → DLQ → replay' is running; one scenario runs at a time" },
      });
      const done = await finishedRun(base, 90_000);
      if (done.state !== 'passed') throw new Error(`${done.result}\n${stack.logs()}`);
      const dlq = `${stack.namespace}.notifications.order-events.dlq`;
      expect(done.result).toMatch(
        new RegExp(
          `^1 poison message parked in ${dlq.replace(/\./g, '\\.')} in \\d+\\.\\d s \\(reason 'invalid', no retries\\); the next order's email still went out; replayed once through DeadLetterQueue, handled again and parked again with replay count 1 \\(id console-scenario-poison-[0-9a-f]{6}\\)\\.$`,
        ),
      );
      expect(done.steps.map((s) => s.watch)).toEqual(expect.arrayContaining(['topology', 'dead-letters', 'emails']));
      // the browser saw the narration grow, one line at a time, then the verdict
      await eventually('the verdict on the stream', () =>
        scenarioRuns(browser).at(-1)?.state === 'passed' ? true : undefined,
      );
      const mine = scenarioRuns(browser).filter((r) => r.startedAt === done.startedAt);
      const lengths = mine.map((r) => r.steps.length);
      expect(lengths.length).toBeGreaterThanOrEqual(5);
      expect([...lengths].sort((a, b) => a - b)).toEqual(lengths);
      expect(mine.at(-1)).toEqual(done);
    } finally {
      browser.close();
    }

    // a second run tidies up the first one's message before parking its own: one stays parked for the view
    const again = await run('poison-message');
    expect(again.steps[0].text).toMatch(/^Purged 1 poison message\(s\) an earlier run left in /);
    const dlqReader = new DeadLetterQueue(broker.amqpUrl);
    try {
      const parked = (await dlqReader.list(`${stack.namespace}.notifications.order-events`)).filter((m) =>
        m.messageId?.startsWith('console-scenario-poison-'),
      );
      expect(parked).toEqual([expect.objectContaining({ reason: 'invalid', replayCount: 1 })]);
    } finally {
      await dlqReader.close();
    }
  }, 200_000);

  it('publish/subscribe: one order.confirmed, a copy for notifications and for the console’s own queue', async () => {
    const done = await run('pub-sub');
    expect(done.result).toMatch(
      /^One order\.confirmed, published once, reached 2 bound queue\(s\): notifications sent 1 confirmation email and the console's queue got 1 copy/,
    );
    expect(await scenarioQueues()).toEqual([]);
  }, 120_000);

  it('routing: the exact key gets clicks only, the wildcard both', async () => {
    const done = await run('routing');
    expect(done.result).toMatch(/^5 events routed by key: the 'clickstream\.click' queue got exactly the 2 clicks/);
    expect(await scenarioQueues()).toEqual([]);
  }, 120_000);

  it('RPC: replies find their callers, remote errors, unroutable, timeouts; its queue removed afterwards', async () => {
    const done = await run('rpc');
    expect(done.result).toMatch(
      /^5 concurrent requests, 5 replies each to its own caller \(6 requests served in all, the failing one included\); a server error came back as RpcRemoteError, a request nobody serves failed in \d+ ms with UnroutableError, a late reply timed out after \d+ ms\.$/,
    );
    expect(await scenarioQueues()).toEqual([]);
  }, 120_000);

  it('saga: one order confirmed and charged once, one cancelled with nothing charged', async () => {
    const done = await run('saga');
    expect(done.result).toMatch(
      /^2 orders, no shared database: 1 CONFIRMED in \d+\.\d s through \d+ saga steps and charged once, 1 CANCELLED \(out of stock/,
    );
  }, 120_000);

  it('retry with backoff: captures retried while the gateway fails, captured once it heals; the gateway put back', async () => {
    const done = await run('retry');
    expect(done.result).toMatch(
      /^3 orders through a failing gateway: \d+ failed attempts retried with backoff, then each captured once when it healed \(3 confirmed, 3 captures/,
    );
    expect(done.steps.at(-1)?.text).toBe("Put back: the payment gateway's settings (failure rate 0).");
    const gateway = await fetch(`${stack.url('payments')}/admin/gateway`, { headers: adminHeaders });
    expect(await gateway.json()).toMatchObject({ failureRate: 0 });
  }, 120_000);

  it('clickstream: a burst counted by /stats within seconds', async () => {
    const done = await run('clickstream');
    expect(done.result).toMatch(
      /^250 events in one burst: \/stats counted all 200 page views of the scenario's page and ≥ 50 clicks \d+\.\d s after they were sent/,
    );
  }, 60_000);

  it('rate-limited emails: 20 emails spread over seconds by the limiter', async () => {
    const done = await run('rate-limit');
    expect(done.result).toMatch(
      /^10 orders, 20 emails spread over \d+\.\d s \(\d+(, \d+)+ a second since the first\) by the limit of 5 a second/,
    );
  }, 120_000);
});

describe('the scenarios that need the demo, in the demo (npm run demo as a process)', () => {
  let demo: RunningDemo;

  beforeAll(async () => {
    demo = await startDemo();
  }, 200_000);
  afterAll(() => demo?.stop(), 60_000);

  it('competing consumers: an added payments instance, named payments-2 in the topology, shares the captures; removed afterwards', async () => {
    const base = demo.url('CONSOLE_PORT');
    expect(
      (await call('GET', `${base}/api/scenarios`)).body.find((s: ScenarioInfo) => s.id === 'competing-consumers'),
    ).toMatchObject({ available: true });
    expect(await call('POST', `${base}/api/scenarios/competing-consumers/run`)).toMatchObject({ status: 202 });
    const done = await finishedRun(base, 180_000);
    if (done.state !== 'passed') throw new Error(`${done.result}\n${done.steps.map((s) => `  ${s.text}`).join('\n')}`);
    expect(done.steps.map((s) => s.text)).toEqual(
      expect.arrayContaining([expect.stringMatching(/now has 2 consumers: payments, payments-2\./)]),
    );
    expect(done.result).toMatch(/^\d+ orders, \d+ captured by payments and \d+ captured by payments-2, none twice/);
    expect(done.steps.at(-1)?.text).toBe('Put back: payments-2 stopped (the added instance).');
    const processes = (await (
      await fetch(`${demo.url('DEMO_CONTROL_PORT')}/processes`, { headers: { authorization: `Bearer ${demo.token}` } })
    ).json()) as Array<{ name: string }>;
    expect(processes.map((p) => p.name)).not.toContain('payments-2');
  }, 240_000);

  /** Runs a scenario on the demo's console and returns its finished run. */
  const runInDemo = async (id: string, timeoutMs: number): Promise<ScenarioRun> => {
    const base = demo.url('CONSOLE_PORT');
    expect(await call('POST', `${base}/api/scenarios/${id}/run`)).toMatchObject({ status: 202 });
    const done = await finishedRun(base, timeoutMs);
    if (done.state !== 'passed')
      throw new Error(`${id} ${done.state}: ${done.result}\n${done.steps.map((s) => `  ${s.text}`).join('\n')}`);
    return done;
  };

  it('consumer killed mid-message: payments killed holding a capture, the order confirmed and charged once', async () => {
    const done = await runInDemo('consumer-killed', 150_000);
    expect(done.result).toMatch(
      /^Payments was killed \(kill -9\) holding order [0-9a-f]{8}'s capture; the broker redelivered it to the restarted payments, which captured it: CONFIRMED, 1 capture, charged once\.$/,
    );
    expect(done.steps.at(-1)?.text).toBe("Put back: the payment gateway's settings (latency 0 ms).");
  }, 180_000);

  it('broker restarted under load: every order settles, each charged once', async () => {
    const done = await runInDemo('broker-restart', 240_000);
    expect(done.result).toMatch(
      /^15 orders \(5 before, 5 during, 5 after a broker restart of \d+\.\d s\): 15 confirmed, 15 captures, none lost and none charged twice\.$/,
    );
  }, 270_000);
});
