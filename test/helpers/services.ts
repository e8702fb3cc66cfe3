// Real services for tests: started on a free loopback port, stopped by their PID (never by name: other test
// runs share the machine). In-process HTTP stand-ins (fault-server.ts and the servers built on it) listen on
// port 0 and are stopped with their own stop().
import { spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { createConnection, createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { tempDir } from "./temp.js";

/** A loopback port nothing listens on: bound, then released. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

export interface RunningService {
  port: number;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

/** Sends `PING` and resolves on `+PONG`; rejects on any error. */
function ping(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => socket.write("PING\r\n"));
    socket.setTimeout(1000, () => socket.destroy(new Error("no answer")));
    socket.on("data", (d) => {
      socket.end();
      if (d.toString().startsWith("+PONG")) resolve();
      else reject(new Error(`unexpected reply ${JSON.stringify(d.toString())}`));
    });
    socket.on("error", reject);
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RunningRedis extends RunningService {
  /** Kills the server (SIGKILL, as a crash) and starts it again on the same port and folder. */
  restart(): Promise<void>;
}

/**
 * A throw-away redis-server (Debian's package) on 127.0.0.1, its files in a temp folder; no persistence, or
 * with `persistent` every write appended and fsynced (appendfsync always), so that even a restart after SIGKILL
 * comes back with every job. Call stop() in afterAll: it sends SIGTERM to that server's PID and waits until
 * the process is gone.
 */
export async function startRedis(options: { persistent?: boolean } = {}): Promise<RunningRedis> {
  const dir = await tempDir("gear-seg-redis-");
  const port = await freePort();
  const pidFile = join(dir, "redis.pid");
  const persistence = options.persistent ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--daemonize", "yes", "--save", "", ...persistence, "--dir", dir, "--pidfile", pidFile, "--logfile", join(dir, "redis.log")];
  const launch = () => new Promise<void>((resolve, reject) => {
    const child = spawn("redis-server", args, { stdio: "ignore" });
    child.on("error", (err) => reject(new Error(`cannot start redis-server (apt-get install redis-server): ${err.message}`)));
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`redis-server exited with code ${code}; see ${join(dir, "redis.log")}`))));
  });
  let pid = 0;
  const started = async () => {
    await launch();
    await until(`redis-server on port ${port} did not answer PING`, 10_000, async () => {
      pid = Number((await readFile(pidFile, "utf8")).trim());
      await ping(port);
      return pid > 0 && alive(pid);
    });
  };
  await started();
  const service: RunningRedis = {
    port,
    pid,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (alive(pid)) process.kill(pid, "SIGTERM");
      await until(`redis-server (PID ${pid}) did not stop`, 10_000, async () => !alive(pid));
    },
    async restart() {
      const old = pid;
      if (alive(old)) process.kill(old, "SIGKILL");
      await until(`redis-server (PID ${old}) did not die`, 10_000, async () => !alive(old));
      await rm(pidFile, { force: true });
      await started();
      service.pid = pid;
    },
  };
  return service;
}
