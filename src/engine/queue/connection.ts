/**
 * Redis for the queue: `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). BullMQ needs an
 * ioredis connection that never gives up on a command (`maxRetriesPerRequest: null`): when Redis restarts,
 * commands wait for the reconnection instead of failing the job. A URL's password is never printed.
 */
import { Redis } from "ioredis";
import { UsageError } from "../../util/errors.js";

export interface QueueAddress {
  url: string;
  /** The URL with any password replaced by "***": what messages show. */
  shown: string;
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
}

export function parseQueueUrl(text: string): QueueAddress {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UsageError(`queue address "${text.replace(/:[^:@/]*@/, ":***@")}" is not a URL; give redis://host:port[/db]`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") throw new UsageError(`queue address must start with redis:// or rediss://, got "${u.protocol}"`);
  const db = u.pathname && u.pathname !== "/" ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new UsageError(`queue address: database "${u.pathname.slice(1)}" is not a number`);
  const port = u.port ? Number(u.port) : 6379;
  const shown = u.password ? text.replace(`:${u.password}@`, ":***@") : text;
  return {
    url: text,
    shown,
    host: u.hostname || "127.0.0.1",
    port,
    db,
    ...(u.username && { username: decodeURIComponent(u.username) }),
    ...(u.password && { password: decodeURIComponent(u.password) }),
    tls: u.protocol === "rediss:",
  };
}

/** A connection BullMQ can use; `onError` hears connection trouble (ioredis retries by itself). */
export function connectRedis(address: QueueAddress, onError?: (message: string) => void): Redis {
  const redis = new Redis({
    host: address.host,
    port: address.port,
    db: address.db,
    username: address.username,
    password: address.password,
    ...(address.tls && { tls: {} }),
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // Reconnect quickly and keep trying: a Redis restart should cost seconds, not the run.
    retryStrategy: (times) => Math.min(200 * times, 2000),
    lazyConnect: false,
  });
  // One line per outage, one when it is over: a Redis restart should not flood the terminal.
  let down = false;
  redis.on("error", (err: Error) => {
    if (down) return;
    down = true;
    onError?.(`queue ${address.shown}: ${err.message}; reconnecting`);
  });
  redis.on("ready", () => {
    if (down) onError?.(`queue ${address.shown}: reconnected`);
    down = false;
  });
  return redis;
}
