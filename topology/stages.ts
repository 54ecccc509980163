/**
 * The stages of a pipeline from stream entries to aggregated batches, composed once from its
 * definition: the workers, a replay and the test driver all run these, so a record is decoded,
 * keyed, windowed and folded the same way wherever it goes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Batch } from 'redis-streams-consumer-groups';
import { concatMap, map, type OperatorFunction, pipe } from 'rxjs';
import { aggregate } from '../operators/aggregate.js';
import { type AssignWindowsOptions, assignWindows } from '../operators/assignWindows.js';
import { decodeEntries } from '../operators/decodeEntries.js';
import { keyRecords } from '../operators/keyRecords.js';
import type { AggregatedPayload, DecodedPayload, Envelope } from '../operators/types.js';
import type { PipelineDefinition } from './topology.js';

/**
 * @example
 * source.batches.pipe(recordStages(topology.definition, { initialStreamTime }), applyState(...));
 */
export function recordStages<T>(
  definition: PipelineDefinition<T>,
  windows: AssignWindowsOptions = {},
): OperatorFunction<Batch, Envelope<AggregatedPayload>> {
  return pipe(
    decodeEntries(definition.codec),
    filterRecords(definition),
    refreshGroups(definition),
    keyRecords({
      group: definition.group,
      member: definition.member,
      value: definition.value,
      time: timeOf(definition),
      id: definition.id,
      groups: definition.spec,
      groupNoun: definition.groupNoun,
    }),
    assignWindows(windows),
    aggregate(),
  );
}

/** The event time of a record: the pipeline's, or its entry's arrival. */
function timeOf<T>(definition: PipelineDefinition<T>): (value: T, entryId: string) => number {
  const { eventTime } = definition;
  if (eventTime) return (value) => eventTime(value);
  return (_, entryId) => Number(entryId.slice(0, entryId.indexOf('-')));
}

function filterRecords<T>(
  definition: PipelineDefinition<T>,
): OperatorFunction<Envelope<DecodedPayload<T>>, Envelope<DecodedPayload<T>>> {
  const { filters } = definition;
  if (filters.length === 0) return (source) => source;
  return map((envelope) => ({
    ...envelope,
    payload: {
      values: envelope.payload.values.filter(({ value }) => filters.every((f) => f.predicate(value))),
    },
  }));
}

/** Lets the group source reload before a batch naming groups it does not know is keyed. */
function refreshGroups<T>(
  definition: PipelineDefinition<T>,
): OperatorFunction<Envelope<DecodedPayload<T>>, Envelope<DecodedPayload<T>>> {
  const { refresh } = definition;
  if (!refresh) return (source) => source;
  return concatMap(async (envelope) => {
    let unknown: Set<string> | undefined;
    for (const { value } of envelope.payload.values) {
      const group = definition.group(value);
      if (definition.spec(group) !== undefined) continue;
      unknown ??= new Set();
      unknown.add(group);
    }
    // A source that cannot be read now (Redis away) is asked again: dead-lettering the records of a
    // group that may well exist would lose them.
    for (let attempt = 0; unknown; attempt++) {
      try {
        await refresh(unknown);
        break;
      } catch {
        await sleep(Math.min(50 * 2 ** attempt, 1000));
      }
    }
    return envelope;
  });
}
