/**
 * The capacity model behind `npm run capacity`: the fleet a load needs (Redis masters and
 * replicas, worker cores, edge cores, memory per shard), computed from the costs the benchmarks
 * measured (`loadtest/results/latest.json`): the `cluster` group's CPU per event on a 3-master
 * cluster, and for Zipf traffic and more windows the `pipeline` group's costs per event when it
 * has them, else its throughput ratios standing in for them. Pure arithmetic; every assumption is
 * an input, and the result lists each one with where it came from.
 */

/** The costs the model uses, per event unless said otherwise (µs of CPU; bytes). */
export interface MeasuredCosts {
  /** Redis CPU of an append: of a single-event request, and per event of a 1,000-event batch. */
  redisAppendSingleUs: number;
  redisAppendBatchUs: number;
  /** Redis CPU of applying an event (uniform users, one window). */
  redisApplyUs: number;
  /** Redis CPU of a rank read, at `rankReadPartitions` partitions (one count per partition). */
  redisRankReadUs: number;
  rankReadPartitions: number;
  /** A worker process's CPU per event applied. */
  workerUs: number;
  /** The edge's CPU: per single-event request, per event of a batch, per rank read. */
  edgeSingleRequestUs: number;
  edgeBatchEventUs: number;
  edgeRankReadUs: number;
  /** A score set's memory per member; a stream's per entry. */
  bytesPerMember: number;
  bytesPerStreamEntry: number;
  /** How much the apply's cost (Redis, worker) is multiplied by under Zipf traffic (s = 1.1). */
  zipfApplyFactor: { redis: number; worker: number; source: string };
  /** The same for four windows (all/day/week/month) instead of one. */
  fourWindowsApplyFactor: { redis: number; worker: number; source: string };
  /** Where the costs come from (the run that measured them). */
  source: string;
}

export interface Load {
  eventsPerSec: number;
  /** Events per ingest request (1: single-event requests; more: batches). Default 1. */
  eventsPerRequest?: number;
  /** Distinct users. */
  users: number;
  /** Windows per board (1: `all` only; 4: all/day/week/month). */
  windows: number;
  /** Zipf exponent of the users' activity; undefined: uniform. */
  zipf?: number;
  /** Rank reads per second (`GET /users/:id`; top-K reads are served from each edge's memory). */
  rankReadsPerSec?: number;
}

export interface Assumptions {
  /** Share of a core a process may use on average, leaving headroom for bursts. Default 0.6. */
  targetUtilisation: number;
  /** Replicas per master (DURABILITY=replicated needs at least 1). Default 1. */
  replicasPerMaster: number;
  /** Partitions per master, so partitions spread evenly and can be moved. Default 4. */
  partitionsPerMaster: number;
  /** The library's limit on PARTITIONS. */
  maxPartitions: number;
  /** Redis Cluster's advised limit on its nodes (masters and replicas). */
  maxClusterNodes: number;
  /** How long streams keep events, minutes (RETENTION_DAYS, for replay). Default 10. */
  streamRetentionMinutes: number;
  /** A shard's memory beyond its data: fragmentation, buffers, a fork's copy-on-write. Default 1.5. */
  memoryOverhead: number;
}

export const DEFAULT_ASSUMPTIONS: Assumptions = {
  targetUtilisation: 0.6,
  replicasPerMaster: 1,
  partitionsPerMaster: 4,
  maxPartitions: 4096,
  maxClusterNodes: 1000,
  streamRetentionMinutes: 10,
  memoryOverhead: 1.5,
};

export interface Fleet {
  masters: number;
  replicas: number;
  /** PARTITIONS of each cluster. */
  partitions: number;
  /** Redis clusters of at most `maxClusterNodes` nodes the masters and replicas make. */
  clusters: number;
  mastersPerCluster: number;
  /** The most events/s one board can take: all of one cluster's masters. */
  boardMaxEventsPerSec: number;
  workerCores: number;
  edgeCores: number;
  /** Memory each master holds: score sets, streams, both with the overhead. */
  memoryPerShardBytes: number;
  scoreSetBytesPerShard: number;
  streamBytesPerShard: number;
  /** Redis CPU per event, µs (append + apply with the Zipf and window factors). */
  redisUsPerEvent: number;
  /** The events/s one master takes at the target utilisation. */
  eventsPerSecPerShard: number;
  /** The share of all events the most active user sends (Zipf), and its partition's events/s. */
  hottestUserShare: number;
  hottestPartitionEventsPerSec: number;
  /** Redis CPU of one rank read at this many partitions, µs (a count on every partition). */
  rankReadRedisUs: number;
  /** Each line: a figure used and where it came from, or a setting and its value. */
  assumptions: string[];
  /** What the load cannot get from this design as it is (a hot partition, too many partitions). */
  warnings: string[];
}

/**
 * The fleet a load needs.
 *
 * @example
 * const fleet = capacityFor(costsFrom(results), { eventsPerSec: 1e8, users: 1e7, windows: 1 });
 * console.log(fleet.masters, fleet.workerCores, fleet.edgeCores);
 */
export function capacityFor(
  costs: MeasuredCosts,
  load: Load,
  assumptions: Assumptions = DEFAULT_ASSUMPTIONS,
): Fleet {
  const util = assumptions.targetUtilisation;
  const perRequest = load.eventsPerRequest ?? 1;
  const windowFactor = (f: number) => 1 + ((load.windows - 1) * (f - 1)) / 3;
  const zipfRedis = load.zipf === undefined ? 1 : costs.zipfApplyFactor.redis;
  const zipfWorker = load.zipf === undefined ? 1 : costs.zipfApplyFactor.worker;
  const appendUs = perRequest === 1 ? costs.redisAppendSingleUs : costs.redisAppendBatchUs;
  const applyUs = costs.redisApplyUs * zipfRedis * windowFactor(costs.fourWindowsApplyFactor.redis);
  const redisUsPerEvent = appendUs + applyUs;
  const eventsPerSecPerShard = (util * 1e6) / redisUsPerEvent;

  // Masters: enough CPU for the events and the rank reads (a count on every partition), in
  // clusters of at most maxClusterNodes nodes. A deployment (edges, workers) uses one cluster and
  // one partition space, so the clusters split the boards between them, not a board's users.
  const reads = load.rankReadsPerSec ?? 0;
  const rankReadUsAt = (partitions: number) =>
    costs.redisRankReadUs * (partitions / costs.rankReadPartitions);
  const mastersPerClusterMax = Math.max(
    1,
    Math.min(
      Math.floor(assumptions.maxClusterNodes / (1 + assumptions.replicasPerMaster)),
      assumptions.maxPartitions,
    ),
  );
  const cpuMasters = Math.max(1, Math.ceil((load.eventsPerSec * redisUsPerEvent) / (util * 1e6)));
  /** The partitions of M masters, and whether the busiest of them has CPU enough for a cluster's share. */
  const fits = (mastersPerCluster: number, clusters: number) => {
    const partitions = Math.min(
      assumptions.maxPartitions,
      mastersPerCluster * assumptions.partitionsPerMaster,
    );
    // The busiest master holds ceil(P / M) partitions, each an equal share of uniform events.
    const busiest = Math.ceil(partitions / mastersPerCluster) / partitions;
    const readUs = ((reads / clusters) * rankReadUsAt(partitions)) / mastersPerCluster;
    const busiestMasterUs = (load.eventsPerSec / clusters) * busiest * redisUsPerEvent + readUs;
    // (A relative tolerance: an exact fit must not lose to rounding.)
    return { partitions, ok: busiestMasterUs <= util * 1e6 * (1 + 1e-9) };
  };
  let clusters = Math.ceil(cpuMasters / mastersPerClusterMax);
  let mastersPerCluster = Math.ceil(cpuMasters / clusters);
  let partitions = fits(mastersPerCluster, clusters).partitions;
  // More masters per cluster while one fits; past a full cluster, one more cluster (a rank read's
  // cost per master does not fall with more masters: it counts on each of their partitions).
  for (;;) {
    const attempt = fits(mastersPerCluster, clusters);
    partitions = attempt.partitions;
    if (attempt.ok) break;
    if (mastersPerCluster < mastersPerClusterMax) mastersPerCluster++;
    else {
      clusters++;
      mastersPerCluster = Math.ceil(cpuMasters / clusters);
    }
  }
  const clusterEventsPerSec = load.eventsPerSec / clusters;
  const masters = mastersPerCluster * clusters;
  // What one board can take: it lives in one cluster, of at most mastersPerClusterMax masters.
  const boardMaxEventsPerSec = mastersPerClusterMax * eventsPerSecPerShard;

  const hottestUserShare = load.zipf === undefined ? 1 / load.users : 1 / zipfNorm(load.users, load.zipf);
  const hottestPartitionEventsPerSec =
    load.eventsPerSec * hottestUserShare + (clusterEventsPerSec * (1 - hottestUserShare)) / partitions;
  const workerUs = costs.workerUs * zipfWorker * windowFactor(costs.fourWindowsApplyFactor.worker);
  const workerCores = Math.ceil((load.eventsPerSec * workerUs) / (util * 1e6));
  const edgeUs = perRequest === 1 ? costs.edgeSingleRequestUs : costs.edgeBatchEventUs * perRequest;
  const edgeCores = Math.ceil(
    ((load.eventsPerSec / perRequest) * edgeUs + reads * costs.edgeRankReadUs) / (util * 1e6),
  );
  // A user's scores live in the cluster of each board it plays; counted once here (one board).
  const scoreSetBytesPerShard = (load.users * load.windows * costs.bytesPerMember) / masters;
  const streamBytesPerShard =
    (load.eventsPerSec * assumptions.streamRetentionMinutes * 60 * costs.bytesPerStreamEntry) / masters;
  const replicas = masters * assumptions.replicasPerMaster;

  const warnings: string[] = [];
  if (clusters > 1) {
    warnings.push(
      `${formatCount(masters + replicas)} Redis nodes: Redis Cluster is meant for up to ` +
        `${assumptions.maxClusterNodes} nodes, so this is ${clusters} clusters of ${mastersPerCluster} masters, ` +
        `each its own deployment (edges, workers, PARTITIONS=${partitions}) with its own boards behind a router by ` +
        `board; one board takes at most ${formatCount(boardMaxEventsPerSec)} events/s (one full cluster)`,
    );
  }
  if (hottestPartitionEventsPerSec > eventsPerSecPerShard) {
    warnings.push(
      `the most active user sends ${formatShare(hottestUserShare)} of the events (Zipf s=${load.zipf} over ` +
        `${formatCount(load.users)} users): its partition alone gets ${formatCount(hottestPartitionEventsPerSec)} ` +
        `events/s, and one shard takes ${formatCount(eventsPerSecPerShard)}. A user's events go to one partition, ` +
        "so no number of shards helps: pre-aggregate at the edge (sum a user's events over a few ms into one)",
    );
  }
  const rankReadRedisUs = rankReadUsAt(partitions);
  if (reads > 0 && rankReadRedisUs > 1000) {
    warnings.push(
      `a rank read counts on every partition: at ${partitions} partitions that is ` +
        `${(rankReadRedisUs / 1000).toFixed(1)} ms of Redis CPU per read; serve ranks from a per-board ` +
        'score histogram instead at this size',
    );
  }

  const us = (v: number) => `${v.toFixed(2)} µs`;
  const assumptionLines = [
    `measured costs: ${costs.source}`,
    `Redis CPU per event, append: ${us(appendUs)} (${perRequest === 1 ? 'single-event requests' : `batches of ${perRequest}, measured at 1,000`})`,
    `Redis CPU per event, apply: ${us(costs.redisApplyUs)} uniform, one window` +
      (zipfRedis !== 1 ? `; x${zipfRedis.toFixed(2)} for Zipf (${costs.zipfApplyFactor.source})` : '') +
      (load.windows !== 1
        ? `; x${windowFactor(costs.fourWindowsApplyFactor.redis).toFixed(2)} for ${load.windows} windows (${costs.fourWindowsApplyFactor.source}, linear in the windows)`
        : ''),
    `worker CPU per event: ${us(costs.workerUs)}, with the same factors (${us(workerUs)})`,
    `edge CPU: ${us(costs.edgeSingleRequestUs)} per single-event request, ${us(costs.edgeBatchEventUs)} per batched event, ${us(costs.edgeRankReadUs)} per rank read`,
    `rank read: ${us(costs.redisRankReadUs)} of Redis CPU at ${costs.rankReadPartitions} partitions, proportional to the partitions`,
    `memory: ${costs.bytesPerMember.toFixed(0)} bytes per score-set member, ${costs.bytesPerStreamEntry.toFixed(0)} per stream entry, x${assumptions.memoryOverhead} overhead`,
    `target utilisation per core: ${util}`,
    `replicas per master: ${assumptions.replicasPerMaster}`,
    `partitions per master: ${assumptions.partitionsPerMaster} (PARTITIONS at most ${assumptions.maxPartitions})`,
    `stream retention: ${assumptions.streamRetentionMinutes} min (RETENTION_DAYS=7 would need ${formatBytes((load.eventsPerSec * 7 * 86_400 * costs.bytesPerStreamEntry) / masters)} per shard)`,
    `Redis Cluster nodes per cluster: at most ${assumptions.maxClusterNodes}`,
    `load: ${formatCount(load.eventsPerSec)} events/s in ${perRequest === 1 ? 'single-event requests' : `requests of ${perRequest}`}, ` +
      `${formatCount(load.users)} users, ${load.windows} window(s), ${load.zipf === undefined ? 'uniform users' : `Zipf s=${load.zipf}`}, ` +
      `${formatCount(reads)} rank reads/s`,
  ];
  if (load.zipf !== undefined && load.zipf !== 1.1) {
    assumptionLines.push(`the Zipf factor was measured at s=1.1 and is used as is for s=${load.zipf}`);
  }

  return {
    masters,
    replicas,
    partitions,
    clusters,
    mastersPerCluster,
    boardMaxEventsPerSec,
    workerCores,
    edgeCores,
    memoryPerShardBytes: (scoreSetBytesPerShard + streamBytesPerShard) * assumptions.memoryOverhead,
    scoreSetBytesPerShard,
    streamBytesPerShard,
    redisUsPerEvent,
    eventsPerSecPerShard,
    hottestUserShare,
    hottestPartitionEventsPerSec,
    rankReadRedisUs,
    assumptions: assumptionLines,
    warnings,
  };
}

/**
 * The costs in a results document (`latest.json`): the `cluster` group's 3-master medians, and
 * the `pipeline` group's Zipf and four-window ratios. Throws naming what is missing.
 *
 * @example
 * const costs = costsFrom(JSON.parse(readFileSync('loadtest/results/latest.json', 'utf8')));
 */
export function costsFrom(results: Record<string, unknown>): MeasuredCosts {
  const value = (path: string): number => {
    const found = path
      .split('.')
      .reduce<unknown>((node, part) => (node as Record<string, unknown>)?.[part], results);
    if (typeof found !== 'number' || !Number.isFinite(found) || found <= 0) {
      throw new Error(`the results have no ${path}: run BENCH_ONLY=cluster npm run bench first`);
    }
    return found;
  };
  const cost = (name: string) => value(`cluster.threeShards.cost.${name}`);
  const groups = (results.groups ?? {}) as Record<
    string,
    { run?: { generatedAt?: string; command?: string } }
  >;
  const run = groups.cluster?.run;
  return {
    redisAppendSingleUs: cost('redisUsPerEvent.singleAppend'),
    redisAppendBatchUs: cost('redisUsPerEvent.batchAppend'),
    redisApplyUs: cost('redisUsPerEvent.apply'),
    redisRankReadUs: cost('redisUsPerRankRead'),
    rankReadPartitions: 16,
    workerUs: cost('workerNodeUsPerEvent'),
    edgeSingleRequestUs: cost('edgeUsPerSingleRequest'),
    edgeBatchEventUs: cost('edgeUsPerBatchEvent'),
    edgeRankReadUs: cost('edgeUsPerRankRead'),
    bytesPerMember: value('cluster.memory.bytesPerMember'),
    bytesPerStreamEntry: value('cluster.memory.bytesPerStreamEntry'),
    zipfApplyFactor: applyFactor(results, 'zipf', 'pipeline.zipf.eventsPerSec'),
    fourWindowsApplyFactor: applyFactor(results, 'four', 'pipeline.fourWindows.uniform.eventsPerSec'),
    source: run ? `the cluster group of ${run.generatedAt} (${run.command})` : 'the cluster group',
  };
}

/**
 * How much an apply costs on `variant` traffic (`zipf`, `four` windows) against uniform, one
 * window: from the pipeline group's costs per event when it reports them (`...redisUsPerEvent`,
 * `...nodeUsPerEvent` figures whose paths name the variant and `uniform`), else from its
 * throughputs (uniform events/s over the variant's: the same factor for Redis and the worker).
 */
function applyFactor(
  results: Record<string, unknown>,
  variant: 'zipf' | 'four',
  variantRatePath: string,
): { redis: number; worker: number; source: string } {
  const figures =
    (results.groups as Record<string, { figures?: { path: string; median: number }[] }> | undefined)?.pipeline
      ?.figures ?? [];
  const costOf = (suffix: string, ofVariant: boolean) =>
    figures.find(
      (f) =>
        f.path.endsWith(suffix) &&
        f.path.toLowerCase().includes('cost') &&
        (ofVariant ? f.path.toLowerCase().includes(variant) : !/zipf|four/i.test(f.path)),
    )?.median;
  const redisVariant = costOf('redisUsPerEvent', true);
  const redisUniform = costOf('redisUsPerEvent', false);
  const nodeVariant = costOf('nodeUsPerEvent', true);
  const nodeUniform = costOf('nodeUsPerEvent', false);
  if (redisVariant && redisUniform && nodeVariant && nodeUniform) {
    return {
      redis: redisVariant / redisUniform,
      worker: nodeVariant / nodeUniform,
      source: `the pipeline group's cost per event, ${variant} over uniform`,
    };
  }
  const read = (path: string) =>
    path.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)?.[part], results);
  const uniform = read('pipeline.uniform.eventsPerSec');
  const other = read(variantRatePath);
  if (typeof uniform === 'number' && typeof other === 'number' && uniform > 0 && other > 0) {
    return {
      redis: uniform / other,
      worker: uniform / other,
      source: `stand-in: the pipeline group's pipeline.uniform.eventsPerSec / ${variantRatePath}`,
    };
  }
  return { redis: 1, worker: 1, source: 'not measured (no pipeline group in the results): factor 1' };
}

/**
 * The normaliser of a Zipf law over `n` ranks, Σ k^-s for k = 1..n: exact up to 100,000 ranks,
 * the tail by its integral (within 0.01 % from there on).
 *
 * @example
 * 1 / zipfNorm(1_000_000, 1.1); // 0.124: the most active of 1M users sends 12.4 % of the events
 */
export function zipfNorm(n: number, s: number): number {
  const exact = Math.min(n, 100_000);
  let sum = 0;
  for (let k = 1; k <= exact; k++) sum += k ** -s;
  if (n > exact) {
    const a = exact + 0.5;
    const b = n + 0.5;
    sum += s === 1 ? Math.log(b / a) : (b ** (1 - s) - a ** (1 - s)) / (1 - s);
  }
  return sum;
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(n >= 1e10 ? 0 : 1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  return n.toLocaleString('en-US', { maximumFractionDigits: 0 });
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

function formatShare(share: number): string {
  return `${(share * 100).toFixed(share >= 0.01 ? 1 : 4)} %`;
}
