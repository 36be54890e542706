import type { RedisOptions } from 'ioredis';
import { QueueError } from './queue-error.js';

/** Where a sweep's queue lives: a Redis server and the name of the queue on it. */
export interface QueueAddress {
  /** The queue's name (BullMQ keys are mup2:<name>:…). */
  readonly name: string;
  /** ioredis options for the server (host, port, db, password, TLS). */
  readonly connection: RedisOptions;
  /** The address as printed: the URL with its password replaced by ***. */
  readonly display: string;
  /** The URL without its password, for commands to copy (the password then comes from REDIS_PASSWORD). */
  readonly withoutPassword: string;
  readonly hasPassword: boolean;
}

export interface QueueAddressOptions {
  /** --redis-password: wins over the URL's password and REDIS_PASSWORD. */
  readonly password?: string;
  /** Where REDIS_URL and REDIS_PASSWORD are read (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

const NAME = /^[A-Za-z0-9._-]{1,100}$/;
const DEFAULT_PORT = 6379;

function parseUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new QueueError(`${what} '${text}' is not a URL; expected redis://[user:password@]host[:port][/db]/name.`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new QueueError(`${what} '${redact(url)}' is not a redis:// or rediss:// URL.`);
  }
  if (url.hostname === '') throw new QueueError(`${what} '${redact(url)}' names no host.`);
  if (url.search !== '' || url.hash !== '') {
    throw new QueueError(`${what} '${redact(url)}': query strings and fragments are not read; remove them.`);
  }
  return url;
}

function redact(url: URL, replacement = '***'): string {
  const copy = new URL(url.href);
  if (copy.password !== '') copy.password = replacement;
  return copy.href;
}

/** The path of a Redis URL: '', '/name', '/db' or '/db/name'. */
function splitPath(url: URL, what: string): { db?: number; name?: string } {
  const parts = decodeURIComponent(url.pathname)
    .split('/')
    .filter((part) => part !== '');
  if (parts.length > 2) {
    throw new QueueError(`${what} '${redact(url)}' has too many path parts; expected /name or /db/name.`);
  }
  const db = parts.length === 2 || (parts.length === 1 && /^\d+$/.test(parts[0]!)) ? parts.shift() : undefined;
  return { ...(db !== undefined && { db: Number(db) }), ...(parts[0] !== undefined && { name: parts[0] }) };
}

/**
 * Reads --queue: either redis[s]://[user[:password]@]host[:port][/db]/name, or
 * a bare queue name whose server is REDIS_URL (redis[s]://host[:port][/db]).
 * rediss:// connects with TLS (Node's CA list; NODE_EXTRA_CA_CERTS adds one).
 * The password is --redis-password, else the URL's, else REDIS_PASSWORD.
 * Nothing here connects: this only says where to.
 */
export function parseQueueAddress(spec: string, options: QueueAddressOptions = {}): QueueAddress {
  const env = options.env ?? process.env;
  let url: URL;
  let name: string | undefined;
  let db: number | undefined;
  if (/^[a-z][a-z0-9+.-]*:/i.test(spec)) {
    url = parseUrl(spec, '--queue');
    ({ db, name } = splitPath(url, '--queue'));
    if (name === undefined) {
      throw new QueueError(
        `--queue '${redact(url)}' names no queue; add it as the path: ${url.protocol}//${url.host}/NAME.`,
      );
    }
  } else {
    name = spec;
    const server = env.REDIS_URL;
    if (server === undefined || server === '') {
      throw new QueueError(
        `--queue '${spec}' is a queue name without a server: give redis://HOST:PORT/${spec}, or set REDIS_URL=redis://HOST:PORT.`,
      );
    }
    url = parseUrl(server, 'REDIS_URL');
    const path = splitPath(url, 'REDIS_URL');
    if (path.name !== undefined) {
      throw new QueueError(
        `REDIS_URL '${redact(url)}' has a path '${path.name}'; only a db number may follow the host.`,
      );
    }
    db = path.db;
    url.pathname = `/${db !== undefined ? `${db}/` : ''}${name}`;
  }
  if (!NAME.test(name)) {
    throw new QueueError(`queue name '${name}' must be 1 to 100 letters, digits, '.', '_' or '-'.`);
  }
  const port = url.port === '' ? DEFAULT_PORT : Number(url.port);
  const password =
    options.password ??
    (url.password !== '' ? decodeURIComponent(url.password) : undefined) ??
    (env.REDIS_PASSWORD !== undefined && env.REDIS_PASSWORD !== '' ? env.REDIS_PASSWORD : undefined);
  // A bracketed IPv6 host comes without its brackets to the socket.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const connection: RedisOptions = {
    host,
    port,
    ...(db !== undefined && { db }),
    ...(url.username !== '' && { username: decodeURIComponent(url.username) }),
    ...(password !== undefined && { password }),
    ...(url.protocol === 'rediss:' && { tls: { servername: host } }),
  };
  if (password !== undefined && url.password === '') url.password = 'password';
  return {
    name,
    connection,
    display: redact(url),
    withoutPassword: redact(url, ''),
    hasPassword: password !== undefined,
  };
}
