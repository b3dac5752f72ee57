// `npm run broker:ctl -- <command> [arguments]`: rabbitmqctl's commands, names and output for the bundled
// broker, spoken over its management HTTP API (which RabbitMQ's management plugin answers too, so it works
// against RabbitMQ as well). Built-ins only.
//
//   --url URL         the management API, with credentials (env AMQP_MANAGEMENT_URL; default
//                     http://guest:guest@localhost:15672)
//   -p, --vhost V     the vhost for commands that take one (default /)
//   -q, --quiet       no "Listing …" lines;  --no-table-headers: no column headers
//   --priority N, --apply-to queues|exchanges|all   for set_policy
//
// Exit codes as rabbitmqctl's: 0 done, 64 bad usage, 69 API unreachable, 70 the broker refused.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const COMMANDS = {
  list_users: { args: [], run: listUsers },
  add_user: { args: ['username', 'password'], run: addUser },
  delete_user: { args: ['username'], run: (c, [name]) => c.del(`users/${enc(name)}`, `Deleting user "${name}" ...`) },
  set_user_tags: { args: ['username', '[tag ...]'], run: setUserTags },
  list_vhosts: { args: [], run: listVhosts },
  add_vhost: { args: ['vhost'], run: (c, [name]) => c.put(`vhosts/${enc(name)}`, {}, `Adding vhost "${name}" ...`) },
  delete_vhost: { args: ['vhost'], run: (c, [name]) => c.del(`vhosts/${enc(name)}`, `Deleting vhost "${name}" ...`) },
  list_permissions: { args: [], run: listPermissions },
  set_permissions: { args: ['username', 'conf', 'write', 'read'], run: setPermissions },
  clear_permissions: {
    args: ['username'],
    run: (c, [user]) =>
      c.del(
        `permissions/${enc(c.vhost)}/${enc(user)}`,
        `Clearing permissions for user "${user}" in vhost "${c.vhost}" ...`,
      ),
  },
  list_queues: {
    args: ['[column ...]'],
    run: (c, cols) =>
      listObjects(c, `queues/${enc(c.vhost)}`, cols, ['name', 'messages'], `Listing queues for vhost ${c.vhost} ...`),
  },
  list_exchanges: {
    args: ['[column ...]'],
    run: (c, cols) =>
      listObjects(c, `exchanges/${enc(c.vhost)}`, cols, ['name', 'type'], `Listing exchanges for vhost ${c.vhost} ...`),
  },
  list_bindings: {
    args: ['[column ...]'],
    run: (c, cols) =>
      listObjects(
        c,
        `bindings/${enc(c.vhost)}`,
        cols,
        ['source_name', 'source_kind', 'destination_name', 'destination_kind', 'routing_key', 'arguments'],
        `Listing bindings for vhost ${c.vhost}...`,
      ),
  },
  list_connections: {
    args: ['[column ...]'],
    run: (c, cols) =>
      listObjects(c, 'connections', cols, ['user', 'peer_host', 'peer_port', 'state'], 'Listing connections ...'),
  },
  list_policies: { args: [], run: listPolicies },
  set_policy: { args: ['name', 'pattern', 'definition'], run: setPolicy },
  clear_policy: {
    args: ['name'],
    run: (c, [name]) =>
      c.del(`policies/${enc(c.vhost)}/${enc(name)}`, `Clearing policy "${name}" on vhost "${c.vhost}" ...`),
  },
  export_definitions: { args: ['file'], run: exportDefinitions },
  import_definitions: { args: ['file'], run: importDefinitions },
};

const USAGE = `Usage: npm run broker:ctl -- [--url URL] [-p VHOST] [-q] <command> [arguments]

Commands (rabbitmqctl's names):
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name} ${c.args.map((a) => (a.startsWith('[') ? a : `<${a}>`)).join(' ')}`)
  .join('\n')}`;

const enc = encodeURIComponent;

class CtlError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

/** The management API client for one invocation. */
function client(url, vhost, quiet, headers, options = {}) {
  const parsed = new URL(url);
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(parsed.username || 'guest')}:${decodeURIComponent(parsed.password || 'guest')}`).toString('base64')}`;
  const base = `${parsed.origin}/api/`;
  const say = (line) => quiet || console.log(line);
  async function request(method, path, body) {
    let response;
    try {
      response = await fetch(base + path, {
        method,
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new CtlError(
        `unable to reach the management API at ${parsed.origin}: ${error.cause?.code ?? error.message}`,
        69,
      );
    }
    const text = await response.text();
    if (response.status === 401)
      throw new CtlError(
        `access refused by ${parsed.origin} (check the user and password in --url; the user needs the administrator tag)`,
        70,
      );
    if (!response.ok) {
      let reason = text;
      try {
        reason = JSON.parse(text).reason ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new CtlError(`${method} ${path}: ${response.status} ${reason || response.statusText}`, 70);
    }
    return text ? JSON.parse(text) : undefined;
  }
  return {
    vhost,
    options,
    say,
    headers,
    get: (path) => request('GET', path),
    post: (path, body) => request('POST', path, body),
    async put(path, body, info) {
      say(info);
      await request('PUT', path, body);
    },
    async del(path, info) {
      say(info);
      await request('DELETE', path);
    },
  };
}

/** rabbitmqctl's table: tab-separated, a header row unless --no-table-headers. */
function table(c, columns, rows) {
  if (c.headers) console.log(columns.join('\t'));
  for (const row of rows) console.log(columns.map((col) => format(row[col])).join('\t'));
}

function format(value) {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return `[${value.map(format).join(', ')}]`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

async function listUsers(c) {
  c.say('Listing users ...');
  table(
    c,
    ['user', 'tags'],
    (await c.get('users')).map((u) => ({ user: u.name, tags: u.tags })),
  );
}

async function addUser(c, [name, password]) {
  c.say(`Adding user "${name}" ...`);
  const existing = await c.get(`users/${enc(name)}`).catch(() => undefined);
  if (existing) throw new CtlError(`user "${name}" already exists`, 70);
  await c.put(`users/${enc(name)}`, { password, tags: [] }, undefined);
  c.say(
    `Done. Don't forget to grant the user permissions to some virtual hosts! See 'npm run broker:ctl -- set_permissions' to learn more.`,
  );
}

async function setUserTags(c, [name, ...tags]) {
  c.say(`Setting tags for user "${name}" to [${tags.join(', ')}] ...`);
  const user = await c.get(`users/${enc(name)}`);
  await c.put(
    `users/${enc(name)}`,
    { password_hash: user.password_hash, hashing_algorithm: user.hashing_algorithm, tags },
    undefined,
  );
}

async function listVhosts(c) {
  c.say('Listing vhosts ...');
  table(c, ['name'], await c.get('vhosts'));
}

async function listPermissions(c) {
  c.say(`Listing permissions for vhost "${c.vhost}" ...`);
  table(
    c,
    ['user', 'configure', 'write', 'read'],
    (await c.get('permissions')).filter((p) => p.vhost === c.vhost),
  );
}

async function setPermissions(c, [user, configure, write, read]) {
  await c.put(
    `permissions/${enc(c.vhost)}/${enc(user)}`,
    { configure, write, read },
    `Setting permissions for user "${user}" in vhost "${c.vhost}" ...`,
  );
}

async function setPolicy(c, [name, pattern, definition]) {
  let parsed;
  try {
    parsed = JSON.parse(definition);
  } catch {
    throw new CtlError(`the definition must be JSON, e.g. '{"max-length":1000}'`, 64);
  }
  const body = {
    pattern,
    definition: parsed,
    priority: Number(c.options.priority ?? 0),
    'apply-to': c.options['apply-to'] ?? 'all',
  };
  await c.put(
    `policies/${enc(c.vhost)}/${enc(name)}`,
    body,
    `Setting policy "${name}" for pattern "${pattern}" to "${definition}" with priority "${body.priority}" for vhost "${c.vhost}" ...`,
  );
}

async function listPolicies(c) {
  c.say(`Listing policies for vhost "${c.vhost}" ...`);
  table(c, ['vhost', 'name', 'pattern', 'apply-to', 'definition', 'priority'], await c.get(`policies/${enc(c.vhost)}`));
}

/** Columns are the API's field names, as rabbitmqctl's info items mostly are. */
async function listObjects(c, path, columns, fallback, info) {
  c.say(info);
  const cols = columns.length ? columns : fallback;
  const rows = (await c.get(path)).map((row) => ({
    ...row,
    source_name: row.source,
    source_kind: 'exchange',
    destination_name: row.destination,
    destination_kind: row.destination_type,
  }));
  table(c, cols, rows);
}

async function exportDefinitions(c, [file]) {
  c.say(`Exporting definitions in JSON to a file at "${file}" ...`);
  writeFileSync(file, JSON.stringify(await c.get('definitions'), null, 2));
}

async function importDefinitions(c, [file]) {
  c.say(`Importing definitions in JSON from a file at "${file}" ...`);
  let body;
  try {
    body = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CtlError(`cannot read definitions from ${file}: ${error.code ?? error.message}`, 70);
  }
  await c.post('definitions', body);
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        vhost: { type: 'string', short: 'p' },
        quiet: { type: 'boolean', short: 'q' },
        'no-table-headers': { type: 'boolean' },
        priority: { type: 'string' },
        'apply-to': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    console.error(`broker:ctl: ${error.message}\n\n${USAGE}`);
    process.exit(64);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 64);
  }
  const [name, ...args] = positionals;
  const command = COMMANDS[name];
  if (!command) {
    console.error(`broker:ctl: unknown command '${name}'\n\n${USAGE}`);
    process.exit(64);
  }
  const required = command.args.filter((a) => !a.startsWith('[')).length;
  if (args.length < required || (!command.args.some((a) => a.startsWith('[')) && args.length > command.args.length)) {
    console.error(`broker:ctl: ${name} takes ${command.args.join(' ') || 'no arguments'}`);
    process.exit(64);
  }
  const url = values.url ?? process.env.AMQP_MANAGEMENT_URL ?? 'http://guest:guest@localhost:15672';
  try {
    await command.run(
      client(url, values.vhost ?? '/', values.quiet ?? false, !values['no-table-headers'], values),
      args,
    );
  } catch (error) {
    if (error instanceof CtlError) {
      console.error(`Error: ${error.message}`);
      process.exit(error.code);
    }
    throw error;
  }
}

await main();
