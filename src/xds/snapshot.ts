import { createHash } from 'node:crypto';
import { encodeAny, encodeDeltaResource, messageType, PUSH_ORDER, TYPE, type XdsTypeUrl } from './protos.js';
import type { ResourceSpec } from './resources.js';
import { TYPE_RULES } from './type-rules.js';

/** One resource, encoded once per version; every stream shares these bytes. */
export interface ResourceEntry {
  readonly name: string;
  /** Content hash of the encoded resource: equal content, equal version, across restarts too. */
  readonly version: string;
  /** Encoded `google.protobuf.Any` (a SotW `DiscoveryResponse.resources` element). */
  readonly any: Uint8Array;
  /** Encoded Delta `Resource` wrapping the same Any. */
  readonly delta: Uint8Array;
  /** Names this resource references (listener → route config, route config → clusters). */
  readonly refs: readonly string[];
}

export interface TypeSet {
  /** Snapshot version at which this type's set last changed (SotW `version_info`). */
  readonly version: string;
  readonly resources: ReadonlyMap<string, ResourceEntry>;
}

/** An immutable, versioned view of every resource the control plane serves. */
export interface Snapshot {
  readonly version: string;
  /** When it was published (ms since epoch), for publish-to-ACK times. */
  readonly publishedAt: number;
  readonly types: Readonly<Record<XdsTypeUrl, TypeSet>>;
  /**
   * EDS as weight-blind proxyless gRPC clients get it (`proxylessEndpointsResource`: endpoint weights as
   * locality weights), encoded once per version like `types`. Absent: those clients get `types` EDS.
   * Envoy never sees it.
   */
  readonly proxylessEndpoints?: TypeSet | undefined;
}

/** Which shape of EDS a stream receives: Envoy's (endpoint weights) or the weight-blind proxyless one. */
export type EdsVariant = 'envoy' | 'proxyless';

/** The set of `typeUrl` resources a stream of this variant is served. */
export function typeSetFor(snapshot: Snapshot, typeUrl: XdsTypeUrl, variant: EdsVariant): TypeSet {
  if (variant === 'proxyless' && typeUrl === TYPE.endpoint && snapshot.proxylessEndpoints) return snapshot.proxylessEndpoints;
  return snapshot.types[typeUrl];
}

export interface SnapshotDiff {
  /** Per type: names added or changed, names removed. */
  readonly changed: Readonly<Record<XdsTypeUrl, readonly string[]>>;
  readonly removed: Readonly<Record<XdsTypeUrl, readonly string[]>>;
}

/**
 * Build the next snapshot. Resources whose encoded bytes did not change keep the previous
 * entry (same object, same bytes), and a type whose set did not change keeps its version.
 * Returns `undefined` when nothing changed at all (nothing to publish).
 */
export function buildSnapshot(
  previous: Snapshot | undefined,
  specs: readonly ResourceSpec[],
  version: string,
  publishedAt: number,
  opts: { contentVersions?: boolean } = {},
): Snapshot | undefined {
  const grouped = new Map<XdsTypeUrl, ResourceSpec[]>(PUSH_ORDER.map((t) => [t, []]));
  const proxyless: ResourceSpec[] = [];
  for (const spec of specs) {
    if (spec.variant === 'proxyless') {
      if (spec.typeUrl !== TYPE.endpoint) throw new Error(`only EDS has a proxyless variant, not ${spec.typeUrl}`);
      proxyless.push(spec);
      continue;
    }
    const list = grouped.get(spec.typeUrl as XdsTypeUrl);
    if (!list) throw new Error(`unsupported resource type ${spec.typeUrl}`);
    list.push(spec);
  }
  let anyChange = previous === undefined;
  const types = {} as Record<XdsTypeUrl, TypeSet>;
  for (const typeUrl of PUSH_ORDER) {
    const built = buildTypeSet(typeUrl, previous?.types[typeUrl], grouped.get(typeUrl) ?? [], version, opts);
    types[typeUrl] = built.set;
    anyChange ||= built.changed;
  }
  let proxylessEndpoints: TypeSet | undefined;
  if (proxyless.length > 0) {
    const built = buildTypeSet(TYPE.endpoint as XdsTypeUrl, previous?.proxylessEndpoints, proxyless, version, opts);
    proxylessEndpoints = built.set;
    anyChange ||= built.changed;
  } else if (previous?.proxylessEndpoints) anyChange = true;
  if (!anyChange) return undefined;
  return Object.freeze({ version, publishedAt, types: Object.freeze(types), ...(proxylessEndpoints ? { proxylessEndpoints } : {}) });
}

/** One type's set: unchanged entries (same bytes) are kept, and an unchanged set keeps its object and version. */
function buildTypeSet(
  typeUrl: XdsTypeUrl,
  before: TypeSet | undefined,
  specs: readonly ResourceSpec[],
  version: string,
  opts: { contentVersions?: boolean },
): { set: TypeSet; changed: boolean } {
  const resources = new Map<string, ResourceEntry>();
  let typeChanged = before === undefined;
  for (const spec of specs) {
    if (resources.has(spec.name)) throw new Error(`duplicate ${typeUrl} resource "${spec.name}"${spec.variant ? ` (${spec.variant})` : ''}`);
    const prior = before?.resources.get(spec.name);
    // The caller knows this resource did not change: keep the previous entry without encoding it again.
    const entry = spec.reuse && prior ? prior : encodeEntry(spec, prior);
    if (entry !== before?.resources.get(spec.name)) typeChanged = true;
    resources.set(spec.name, entry);
  }
  if (before && before.resources.size !== resources.size) typeChanged = true;
  if (before && !typeChanged) {
    for (const name of before.resources.keys()) if (!resources.has(name)) typeChanged = true;
  }
  const typeVersion = opts.contentVersions ? contentVersion(resources) : version;
  return typeChanged ? { set: { version: typeVersion, resources }, changed: true } : { set: before as TypeSet, changed: false };
}

/**
 * A type's version derived from its content only (the sorted names and content hashes of its resources):
 * replicas that serve the same resources serve the same version, so a proxy moving between them
 * receives nothing it already has.
 */
export function contentVersion(resources: ReadonlyMap<string, ResourceEntry>): string {
  const h = createHash('sha256');
  for (const name of [...resources.keys()].sort()) h.update(name).update('\0').update(resources.get(name)!.version).update('\n');
  return `c-${h.digest('base64url').slice(0, 22)}`;
}

function encodeEntry(spec: ResourceSpec, previous: ResourceEntry | undefined): ResourceEntry {
  const type = messageType(spec.typeUrl.slice(spec.typeUrl.lastIndexOf('/') + 1));
  const value = type.encode(type.fromObject(spec.message)).finish();
  const version = createHash('sha256').update(spec.typeUrl).update(value).digest('base64url').slice(0, 16);
  if (previous && previous.version === version) return previous;
  const any = encodeAny({ type_url: spec.typeUrl, value });
  return Object.freeze({ name: spec.name, version, any, delta: encodeDeltaResource(spec.name, version, any), refs: Object.freeze([...spec.refs]) });
}

/**
 * What keeps a snapshot from being served (go-control-plane's `Consistent`): a reference to a resource the
 * snapshot lacks (`TYPE_RULES[type].refersTo`), or a proxyless EDS set that names other clusters than Envoy's.
 * A proxy given such a snapshot waits for a resource that never comes (a warming cluster or listener).
 */
export function inconsistencies(snapshot: Snapshot): string[] {
  const problems: string[] = [];
  const short = (t: XdsTypeUrl): string => t.slice(t.lastIndexOf('.') + 1);
  for (const typeUrl of PUSH_ORDER) {
    const target = TYPE_RULES[typeUrl].refersTo;
    for (const e of snapshot.types[typeUrl].resources.values()) {
      for (const ref of e.refs) {
        if (!snapshot.types[target].resources.has(ref))
          problems.push(`${short(typeUrl)} "${e.name}" refers to ${short(target)} "${ref}", which is not in the snapshot`);
      }
    }
  }
  const proxyless = snapshot.proxylessEndpoints?.resources;
  const eds = snapshot.types[TYPE.endpoint].resources;
  if (proxyless) {
    for (const name of eds.keys()) if (!proxyless.has(name)) problems.push(`ClusterLoadAssignment "${name}" has no proxyless variant`);
    for (const name of proxyless.keys()) if (!eds.has(name)) problems.push(`proxyless ClusterLoadAssignment "${name}" has no Envoy variant`);
  }
  return problems;
}

export function diffSnapshots(previous: Snapshot | undefined, next: Snapshot): SnapshotDiff {
  const changed = {} as Record<XdsTypeUrl, string[]>;
  const removed = {} as Record<XdsTypeUrl, string[]>;
  for (const typeUrl of PUSH_ORDER) {
    const before = previous?.types[typeUrl].resources;
    const after = next.types[typeUrl].resources;
    changed[typeUrl] = [...after.values()].filter((e) => before?.get(e.name) !== e).map((e) => e.name);
    removed[typeUrl] = before ? [...before.keys()].filter((n) => !after.has(n)) : [];
  }
  return { changed, removed };
}
