import { describe, expect, it } from 'vitest';
import { parseQueueAddress } from './queue-address.js';

describe('parseQueueAddress', () => {
  it('reads host, port, db, queue name, user and password from a redis:// URL', () => {
    const address = parseQueueAddress('redis://worker:s3cr%40t@redis.lab:6390/2/figure1', { env: {} });
    expect(address.name).toBe('figure1');
    expect(address.connection).toEqual({
      host: 'redis.lab',
      port: 6390,
      db: 2,
      username: 'worker',
      password: 's3cr@t',
    });
    expect(address.display).toBe('redis://worker:***@redis.lab:6390/2/figure1');
    expect(address.withoutPassword).toBe('redis://worker@redis.lab:6390/2/figure1');
  });

  it('defaults the port to 6379 and turns on TLS for rediss://', () => {
    const address = parseQueueAddress('rediss://redis.lab/sweep-a', { env: {} });
    expect(address.connection).toEqual({ host: 'redis.lab', port: 6379, tls: { servername: 'redis.lab' } });
  });

  it('takes the password from --redis-password, else the URL, else REDIS_PASSWORD', () => {
    const env = { REDIS_PASSWORD: 'from-env' };
    expect(parseQueueAddress('redis://:url@h/q', { env, password: 'flag' }).connection.password).toBe('flag');
    expect(parseQueueAddress('redis://:url@h/q', { env }).connection.password).toBe('url');
    const fromEnv = parseQueueAddress('redis://h/q', { env });
    expect(fromEnv.connection.password).toBe('from-env');
    expect(fromEnv.display).toBe('redis://:***@h/q');
  });

  it('reads a bare queue name as a queue on the server of REDIS_URL', () => {
    const address = parseQueueAddress('figure1', { env: { REDIS_URL: 'redis://h:7000/3' } });
    expect(address).toMatchObject({ name: 'figure1', connection: { host: 'h', port: 7000, db: 3 } });
    expect(address.display).toBe('redis://h:7000/3/figure1');
  });

  it.each([
    ['a URL without a queue name', 'redis://h:6379', {}, /names no queue; add it as the path: redis:\/\/h:6379\/NAME/],
    ['another scheme', 'http://h/q', {}, /not a redis:\/\/ or rediss:\/\/ URL/],
    ['a bare name without REDIS_URL', 'q', {}, /a queue name without a server.*REDIS_URL/],
    ['a name with a colon', 'redis://h/a:b', {}, /queue name 'a:b' must be/],
    ['a query string', 'redis://h/q?tls=1', {}, /query strings/],
    ['REDIS_URL with a name of its own', 'q', { REDIS_URL: 'redis://h/other' }, /only a db number may follow/],
  ])('refuses %s, naming it', (_case, spec, env, message) => {
    expect(() => parseQueueAddress(spec, { env })).toThrow(message);
  });

  it('never shows the password in an error', () => {
    expect(() => parseQueueAddress('redis://:hunter2@h', { env: {} })).toThrow(/redis:\/\/:\*\*\*@h/);
    expect(() => parseQueueAddress('redis://:hunter2@h', { env: {} })).not.toThrow(/hunter2/);
  });
});
