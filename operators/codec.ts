/**
 * How a pipeline's records are laid out in stream entries. The default codec keeps a record as
 * one JSON field checked by a zod schema on the way in; a pipeline may bring its own (a compact
 * layout and a hand-written check for a hot path), as long as `decode(encode(x))` gives `x` back.
 */
import type { z } from 'zod';

/**
 * The field of a watermark entry: not a record, but the news that the partition's stream time
 * has reached its value (epoch ms). A producer may append one to a quiet partition so its windows
 * close; the test driver advances event time with them.
 */
export const WATERMARK_FIELD = '__watermark';

/** A decoded record, or why the entry cannot be one. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface Codec<T> {
  /** The entry's flat field list (`[field, value, ...]`), ready for XADD. */
  encode(value: T): string[];
  /** The record of an entry's fields. Never throws: a bad entry is a reason, dead-lettered. */
  decode(fields: Record<string, string>): Decoded<T>;
}

/**
 * The default codec: field `d` holds the record as JSON, checked with `schema` when read.
 *
 * @example
 * const codec = jsonCodec(z.object({ productId: z.string(), price: z.number() }));
 * codec.encode({ productId: 'p1', price: 3 }); // ['d', '{"productId":"p1","price":3}']
 */
export function jsonCodec<S extends z.ZodType>(schema: S): Codec<z.infer<S>> {
  return {
    encode: (value) => ['d', JSON.stringify(value)],
    decode(fields) {
      const raw = fields.d;
      if (raw === undefined) return { ok: false, reason: 'entry: no field d (a JSON record)' };
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch (error) {
        return { ok: false, reason: `d: not JSON (${(error as Error).message})` };
      }
      const result = schema.safeParse(json);
      if (result.success) return { ok: true, value: result.data };
      return { ok: false, reason: describeIssues(result.error) };
    },
  };
}

/** A zod error in one line: `path: message; path: message`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'record'}: ${issue.message}`).join('; ');
}
