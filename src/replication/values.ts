/**
 * The values healthmesh shares under the replication prefix, validated when read back from etcd
 * (a value that does not match is reported and ignored, never applied):
 *   <prefix>/members/<endpointKey>      a runtime registration (StoredRegistration)
 *   <prefix>/assignments/<endpointKey>  the owner's own decision and memory (SharedDecision)
 *   <prefix>/drains/<endpointKey>       an operator's drain ({ drained: true }); deleted when undrained
 */
import { z } from 'zod';
import type { Decision, EndpointMemory } from '../core/decide.js';
import type { ForwardedSignal, SharedDecision } from '../health/engine.js';
import type { StoredRegistration } from '../store/types.js';

export const membersPrefix = (prefix: string): string => `${prefix}/members/`;
export const assignmentsPrefix = (prefix: string): string => `${prefix}/assignments/`;
export const drainsPrefix = (prefix: string): string => `${prefix}/drains/`;
/** `<prefix>/signals/<replicaId>/<endpointKey>`: passive signals a replica received for endpoints it does not own. */
export const signalsPrefix = (prefix: string): string => `${prefix}/signals/`;

const ms = z.number().finite();

export const registrationSchema = z
  .object({
    cluster: z.string().min(1),
    address: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    weight: z.number().int().min(1),
    zone: z.string().optional(),
    region: z.string().optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    registeredAt: ms,
  })
  .strict();

const circuitSchema = z
  .object({
    state: z.enum(['closed', 'open', 'half-open']),
    since: ms,
    openUntil: ms,
    trips: z.number().int().min(0),
    tripTimes: z.array(ms),
    probationFromProbe: z.number().int().min(0),
    probationStartedAt: ms.optional(),
    closedAt: ms.optional(),
  })
  .strict();

const weightLevelSchema = z.object({ fraction: z.number().min(0).max(1), since: ms, score: z.number(), reasons: z.array(z.string()) }).strict();

const memorySchema = z
  .object({ circuit: circuitSchema, status: z.enum(['HEALTHY', 'DEGRADED']), warming: z.boolean(), weightLevel: weightLevelSchema.optional() })
  .strict();

/** The fields every replica's guard and EDS read are checked; the rest of a Decision (facts, reasons) passes through. */
const decisionSchema = z
  .object({
    score: z.number(),
    status: z.enum(['HEALTHY', 'DEGRADED', 'UNHEALTHY']),
    circuit: z.enum(['closed', 'open', 'half-open']),
    health: z.enum(['HEALTHY', 'DEGRADED', 'UNHEALTHY', 'DRAINING']),
    weight: z.number().int().min(0),
    targetWeight: z.number().int().min(0),
    weightFraction: z.number(),
    reasons: z.array(z.string()),
    facts: z.object({ pressure: z.array(z.enum(['cpu', 'memory', 'disk'])) }).passthrough(),
    flapping: z.boolean(),
    guarded: z.boolean(),
    warming: z.boolean(),
    openUntil: ms.optional(),
  })
  .passthrough();

export const sharedDecisionSchema = z.object({ decision: decisionSchema, memory: memorySchema, at: ms }).strict();

const trafficSchema = z.object({ at: ms, intervalMs: z.number().min(0), successes: z.number().int().min(0), errors: z.number().int().min(0) }).strict();
const nodeSchema = z.object({ at: ms, nodeId: z.string().min(1), cpuPercent: z.number(), memoryPercent: z.number(), diskPercent: z.number() }).strict();
export const signalBatchSchema = z
  .object({ signals: z.array(z.union([z.object({ traffic: trafficSchema }).strict(), z.object({ node: nodeSchema }).strict()])).max(1000) })
  .strict();
export const parseSignalBatch = (v: unknown): { signals: ForwardedSignal[] } => signalBatchSchema.parse(v);

export const drainSchema = z.object({ drained: z.literal(true) }).strict();

export const parseRegistration = (v: unknown): StoredRegistration => registrationSchema.parse(v) as StoredRegistration;
export const parseSharedDecision = (v: unknown): SharedDecision => {
  const p = sharedDecisionSchema.parse(v);
  return { decision: p.decision as unknown as Decision, memory: p.memory as EndpointMemory, at: p.at };
};
