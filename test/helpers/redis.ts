// A real Redis (Debian's redis-server) for the queue tests: started on a free loopback port in a temporary
// folder, stopped by its PID. With `persistent`, every write is appended and fsynced (appendfsync always),
// so a restart (even after SIGKILL) comes back with the queue as it was.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestRedis {
  url: string;
  port: number;
  pid(): number;
  /** Kills the server (SIGKILL) and starts it again on the same port and folder. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const { connect } = await import("node:net");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, "127.0.0.1");
      c.once("connect", () => {
        c.end();
        resolve(true);
      });
      c.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on ${port}`);
}

export async function startRedis(options: { persistent?: boolean } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "gear-seg-redis-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--daemonize", "no", "--protected-mode", "yes", "--loglevel", "warning"];
  if (options.persistent) args.push("--appendonly", "yes", "--appendfsync", "always");
  else args.push("--appendonly", "no");
  let child: ChildProcess;
  const launch = async () => {
    child = spawn("redis-server", args, { stdio: "ignore" });
    await waitForPort(port);
  };
  await launch();
  const kill = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      process.kill(child.pid!, "SIGKILL");
    });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: () => child.pid!,
    restart: async () => {
      await kill();
      await launch();
    },
    stop: kill,
  };
}
