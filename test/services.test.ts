// The test-service helpers themselves: a real redis-server on a free port answers, and stop() ends exactly
// that process.
import { afterAll, describe, expect, it } from "vitest";
import { freePort, startRedis, type RunningService } from "./helpers/services.js";

describe("test services", () => {
  let redis: RunningService | undefined;
  afterAll(async () => redis?.stop());

  it("starts redis-server on a free loopback port and stops it by its PID", async () => {
    redis = await startRedis();
    expect(redis.port).toBeGreaterThan(0);
    expect(() => process.kill(redis!.pid, 0)).not.toThrow();
    const other = await freePort();
    expect(other).not.toBe(redis.port);
    await redis.stop();
    expect(() => process.kill(redis!.pid, 0)).toThrow();
    redis = undefined;
  });
});
