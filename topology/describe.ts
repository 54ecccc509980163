/**
 * The graph of a pipeline definition as stages with the stages they feed, branches included
 * (dead letters, late records, sinks), and as text in the manner of Kafka Streams'
 * `Topology.describe()`.
 */
import type { PipelineDefinition } from './topology.js';

export type StageKind = 'source' | 'processor' | 'sink';

export interface StageDescription {
  kind: StageKind;
  name: string;
  description: string;
  /** The stages this one feeds. */
  to: string[];
}

/**
 * @example
 * console.log(describeTopology(topology.definition).text);
 */
export function describeTopology<T>(definition: PipelineDefinition<T>): {
  stages: StageDescription[];
  text: string;
} {
  const { stream, groupNoun, filters, sinks, defaults, perGroup } = definition;
  const own = perGroup ? ` (each ${groupNoun}'s own; by default ` : ' (';
  const windows = `${own}${defaults.windows.map((w) => w.describe()).join(', ')})`;
  const reduce = `${own}${defaults.reduce})`;
  const top = `${own}top ${defaults.k}, ${defaults.order}, ties by ${defaults.tieBreak})`;
  const stages: StageDescription[] = [];
  const add = (kind: StageKind, name: string, description: string, ...to: string[]) =>
    stages.push({ kind, name, description, to });
  const snapshotSinks = sinks
    .filter((s) => s.input === 'snapshots' || s.input === 'closed')
    .map((s) => s.name);
  const lateSinks = sinks.filter((s) => s.input === 'late').map((s) => s.name);

  add('source', 'source', `consumer group on {${stream}:p}:in, leased partitions`, 'decode');
  add(
    'processor',
    'decode',
    'decode entries; undecodable ones are dead-lettered with their batch',
    filters[0]?.name ?? 'key',
    'dead-letters',
  );
  filters.forEach((f, i) => {
    add('processor', f.name, 'keep the records the predicate accepts', filters[i + 1]?.name ?? 'key');
  });
  add(
    'processor',
    'key',
    `group, member, value, time${definition.id ? ', id' : ''} of each record; unknown ${groupNoun}s are dead-lettered`,
    'windows',
    'dead-letters',
  );
  add(
    'processor',
    'windows',
    `event-time windows${windows}; records past a window's end plus grace go to late`,
    'aggregate',
    'late',
  );
  add(
    'processor',
    'aggregate',
    `reduce${reduce} per (${groupNoun}, window instance, member) within the batch`,
    'apply',
  );
  add(
    'processor',
    'apply',
    'one fenced Lua script per partition batch: state, de-duplication, late records, dead letters, checkpoint, acknowledgement; marks the tops it may have changed',
    'topK',
  );
  add(
    'processor',
    'topK',
    `merge each marked top${top} from the partitions; versioned snapshots {${stream}:snap:<${groupNoun}>}:<window>, announced`,
    ...snapshotSinks,
  );
  add('sink', 'dead-letters', `each partition's dead-letter stream {${stream}:p}:dlq`);
  add('sink', 'late', `each partition's late stream {${stream}:p}:late (side output)`, ...lateSinks);
  for (const sink of sinks) add('sink', sink.name, sink.description);

  const lines = [`Topology: ${definition.name}`];
  for (const stage of stages) {
    const label = stage.kind === 'source' ? 'Source' : stage.kind === 'sink' ? 'Sink' : 'Processor';
    lines.push(`  ${label}: ${stage.name} (${stage.description})`);
    lines.push(`    --> ${stage.to.length > 0 ? stage.to.join(', ') : 'none'}`);
  }
  return { stages, text: lines.join('\n') };
}
