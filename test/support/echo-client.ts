import type * as grpc from '@grpc/grpc-js';
import type { WhoReply } from './backends.js';

/** Calls Echo/Who through a (proxyless) client and tallies which backend answered. */
export function echoCaller(client: () => grpc.Client): { who(): Promise<string>; tally(n: number): Promise<Record<string, number>> } {
  const who = (): Promise<string> =>
    new Promise((resolve, reject) =>
      (client() as unknown as { Who(req: object, opts: object, cb: (err: Error | null, r?: WhoReply) => void): void }).Who(
        {},
        { deadline: Date.now() + 3000 },
        (err, reply) => (err ? reject(err) : resolve(reply!.backend)),
      ),
    );
  return {
    who,
    async tally(n) {
      const counts: Record<string, number> = {};
      for (let i = 0; i < n; i++) {
        const b = await who();
        counts[b] = (counts[b] ?? 0) + 1;
      }
      return counts;
    },
  };
}
