/**
 * redis-streams-consumer-groups: partitioned Redis Streams with consumer groups, partition leases
 * with epochs, pending recovery, dead letters and checkpoints. No RxJS, no application knowledge.
 */

export type { AdminOptions, DeadLetter, PartitionGroupInfo } from './admin.js';
export { StreamAdmin } from './admin.js';
export type { AppendConnectionOptions } from './appendConnection.js';
export { createAppendConnection } from './appendConnection.js';
export { assignedPartitions } from './assignment.js';
export type { PartitionShard } from './cluster.js';
export { isCluster, partitionShards } from './cluster.js';
export { ScriptCode } from './commands.js';
export type { Batch, ConsumerEvents, ConsumerOptions, RevokeReason } from './consumer.js';
export { Consumer } from './consumer.js';
export type { RawEntry, StreamEntry } from './entries.js';
export { compareIds, decodeEntry, idBefore } from './entries.js';
export { BadEntryError } from './errors/BadEntryError.js';
export { ConnectionLostError } from './errors/ConnectionLostError.js';
export { ConsumerGroupsError } from './errors/ConsumerGroupsError.js';
export { InvalidOptionError } from './errors/InvalidOptionError.js';
export { LeaseLostError } from './errors/LeaseLostError.js';
export { ReplicationTimeoutError } from './errors/ReplicationTimeoutError.js';
export { ensureGroup, isMissingGroup } from './groups.js';
export type { PartitionKeys } from './keys.js';
export { leaseToken, membersKey, partitionKeys, partitionSlot, partitionTag } from './keys.js';
export { partitionFor, stableHash } from './partitioner.js';
export type { FieldValue, ProducerOptions, ProducerRecord } from './producer.js';
export { DEFAULT_RETENTION_MS, MAX_ENTRIES_PER_CALL, Producer } from './producer.js';
export type { ReplicaWaitOptions } from './replicaWait.js';
export { ReplicaWait } from './replicaWait.js';
export type { ScriptSource } from './scripts.js';
export { defineConsumerGroupScripts, defineScripts, PACKAGE_LUA_DIR, readScripts } from './scripts.js';
export { keySlot, SLOT_COUNT } from './slots.js';
