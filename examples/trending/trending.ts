/**
 * Example: the top products by revenue of each category, in hourly windows that hop every ten
 * minutes (each order counts in six of them), with five minutes of grace for late orders. Orders
 * are partitioned by product; a repeated order id counts once.
 */
import { z } from 'zod';
import { type ArchiveStore, archive, TimeWindows, Topology } from '../../topology/index.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const Order = z.object({
  orderId: z.string().min(1),
  productId: z.string().min(1),
  category: z.string().regex(/^[a-z0-9-]{1,40}$/),
  price: z.number().nonnegative(),
  qty: z.number().int().positive(),
  /** When the order was placed, epoch ms. */
  at: z.number().int().nonnegative(),
});
export type Order = z.infer<typeof Order>;

/** The windows: one hour long, a new one every ten minutes, open five minutes past their end. */
export const hourly = TimeWindows.ofSizeAndGrace(HOUR, 5 * MINUTE).advanceBy(10 * MINUTE);

/**
 * @example
 * const pipeline = trending({ archive: async (top) => saveSomewhere(top) });
 * await runPipeline(pipeline, { redis, partitions: 8 });
 */
export function trending(store: ArchiveStore) {
  return Topology.fromStreams('orders', {
    schema: Order,
    partitionKey: (o) => o.productId,
    eventTime: (o) => o.at,
  })
    .windowedBy(hourly)
    .aggregate({
      group: (o) => o.category,
      member: (o) => o.productId,
      value: (o) => o.price * o.qty,
      id: (o) => o.orderId,
      reduce: 'sum',
    })
    .topK(10)
    .to(archive(store))
    .named('trending');
}
