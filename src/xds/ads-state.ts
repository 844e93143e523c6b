import { PUSH_ORDER, type XdsTypeUrl } from './protos.js';
import { typeSetFor, type EdsVariant, type ResourceEntry, type Snapshot, type TypeSet } from './snapshot.js';
import { TYPE_RULES } from './type-rules.js';

/**
 * The state machine of one ADS stream, pure (no I/O, no clock): requests and snapshots in,
 * responses out. What the client holds is what it ACKed; a response is only "in flight" until
 * it is ACKed or NACKed, so a NACK leaves the client's known versions at the last ACKed ones and
 * make-before-break waits for ACKs, not sends.
 */
export type Protocol = 'sotw' | 'delta';

export interface RequestIn {
  typeUrl: XdsTypeUrl;
  nonce?: string | undefined;
  error?: { code: number; message: string } | undefined;
  /** SotW: the full list of names. */
  resourceNames?: readonly string[] | undefined;
  /** Delta. */
  subscribe?: readonly string[] | undefined;
  unsubscribe?: readonly string[] | undefined;
  initialVersions?: Readonly<Record<string, string>> | undefined;
}

export interface ResponseOut {
  typeUrl: XdsTypeUrl;
  nonce: string;
  /** The type's snapshot version (SotW `version_info`, Delta `system_version_info`). */
  version: string;
  publishedAt: number;
  resources: ResourceEntry[];
  /** Delta only. */
  removed: string[];
}

export type Settled =
  | { kind: 'ack'; typeUrl: XdsTypeUrl; version: string; publishedAt: number }
  | { kind: 'nack'; typeUrl: XdsTypeUrl; version: string; resources: string[]; error: { code: number; message: string } };

/** A client asked for more than the stream may hold (`limit`) or for a name no resource can have (`invalid`). */
export class SubscriptionLimitError extends Error {
  constructor(
    message: string,
    readonly kind: 'limit' | 'invalid' = 'limit',
  ) {
    super(message);
  }
}

/** Longest resource name (or Delta version string) accepted in a request; configured names are at most 200 characters. */
export const MAX_NAME_CHARS = 1024;

function checkNames(names: Iterable<string>, what: string): void {
  for (const n of names) {
    if (n.length > MAX_NAME_CHARS)
      throw new SubscriptionLimitError(`a ${what} of ${n.length} characters is longer than the ${MAX_NAME_CHARS} allowed`, 'invalid');
  }
}

export interface AdsLimits {
  /** Resource names subscribed per stream (all types), and names in one request. */
  maxSubscriptions: number;
  /** Responses awaiting an answer per type before the oldest is forgotten (a client that never ACKs). */
  maxInFlight?: number;
}

interface InFlight {
  nonce: string;
  version: string;
  publishedAt: number;
  resources: Map<string, ResourceEntry>;
  removed: Set<string>;
  /** SotW full-state: names absent from `resources` are deleted. */
  full: boolean;
  /**
   * Names forgotten (unsubscribed, re-warmed) while this response was in flight: a client that
   * subscribes again before it arrives takes them, so once it is answered they are uncertain.
   */
  unknown: Set<string>;
}

/** The empty `removed`/`unknown` of most in-flight responses, shared: never added to (see `markUnknown`). */
class NoNames extends Set<string> {
  override add(): this {
    throw new Error('the shared empty name set is never added to');
  }
}
const NO_NAMES: Set<string> = new NoNames();

function markUnknown(f: InFlight, name: string): void {
  if (f.unknown === NO_NAMES) f.unknown = new Set();
  f.unknown.add(name);
}

const NO_STRINGS: readonly string[] = Object.freeze([]);
const NO_TYPES: ReadonlySet<XdsTypeUrl> = new Set();

const NOTHING_HELD: { names: string[]; bisecting: boolean } = Object.freeze({ names: [], bisecting: false }) as { names: string[]; bisecting: boolean };

/** Marks a suspect of a NACK whose version is not known (forgotten while the response was in flight). */
const FORGOTTEN = '\u0000forgotten';

/** Marks a removal the client rejected. */
const REMOVAL = '\u0000removed';

interface TypeState {
  wildcard: boolean;
  names: Set<string>;
  /** What the client ACKed: the entry, or (Delta reconnect) the version it told us. */
  acked: Map<string, ResourceEntry | string>;
  /**
   * Resources a NACKed response changed: the client may hold either version (Envoy and gRPC apply the
   * valid part of a rejected LDS/CDS response), so they are re-sent on the next change even when it
   * equals the ACKed version, and full-state responses carry the ACKed entry meanwhile.
   */
  uncertain: Set<string>;
  inFlight: InFlight[];
  /** Versions the client rejected on their own: not re-sent until they change. */
  rejected: Map<string, string>;
  /**
   * After a NACK of a response that changed several resources: at most this many changes per response,
   * one response at a time, halved on every NACK until the rejected change is found (bisection); 0 = off.
   */
  isolate: number;
  requested: boolean;
  answered: boolean;
  /** The type set this state was last found up to date with; cleared by every change of this state. */
  upToDateWith: TypeSet | undefined;
}

interface Plan {
  wanted: ResourceEntry[];
  /** Resources whose current version the client lacks (and did not reject). */
  advance: ResourceEntry[];
  /** Names to announce as removed (Delta, or SotW full-state by omission). */
  removals: string[];
  /** SotW RDS/EDS: removed implicitly with their parent; just forget them. */
  forget: string[];
  /** SotW full-state: removed resources still referenced, kept in the set. */
  retained: ResourceEntry[];
}

const versionOf = (k: ResourceEntry | string | undefined): string | undefined => (typeof k === 'string' ? k : k?.version);

/** What a full-state response carries for one wanted resource: the current entry when the client lacks it, else the one it holds. */
function fullStateEntry(st: TypeState, e: ResourceEntry): ResourceEntry | undefined {
  const held = st.acked.get(e.name);
  if (versionOf(held) !== e.version) return e;
  return held !== undefined && typeof held !== 'string' ? held : undefined;
}

/** A served type's place in PUSH_ORDER (at most four string comparisons). */
function typeSlot(typeUrl: XdsTypeUrl): number {
  const i = PUSH_ORDER.indexOf(typeUrl);
  if (i < 0) throw new Error(`not a served type: ${typeUrl}`);
  return i;
}

/** Whether a record (a decoded protobuf map, `{}` when absent) has any entry. */
function hasKeys(o: object | undefined): boolean {
  for (const _ in o) return true;
  return false;
}

/** A SotW request names exactly the subscribed set (no `*`, no duplicates). */
function sameNames(names: readonly string[], current: ReadonlySet<string>): boolean {
  if (names.length !== current.size) return false;
  for (const n of names) if (!current.has(n)) return false;
  return true;
}

export class AdsState {
  /** Per served type, by its place in PUSH_ORDER (an array, not a map: read for every type on every push). */
  private readonly slots: Array<TypeState | undefined> = [undefined, undefined, undefined, undefined];
  private nonceCounter = 0;
  private edsVariant: EdsVariant = 'envoy';

  constructor(
    readonly protocol: Protocol,
    private readonly limits: AdsLimits,
    private readonly noncePrefix: string,
  ) {}

  /**
   * The EDS shape this stream is served (from its node, before its first request): chosen once, since the
   * two shapes carry different versions of the same names.
   */
  useVariant(variant: EdsVariant): void {
    if (this.slots.some((st) => st !== undefined) && variant !== this.edsVariant) throw new Error('the EDS variant is chosen before the first request');
    this.edsVariant = variant;
  }

  get variant(): EdsVariant {
    return this.edsVariant;
  }

  private setOf(snapshot: Snapshot, typeUrl: XdsTypeUrl): TypeSet {
    return typeSetFor(snapshot, typeUrl, this.edsVariant);
  }

  /** Settle the response the request answers (if any) and apply its subscription changes. */
  onRequest(req: RequestIn): Settled | undefined {
    const st = this.typeState(req.typeUrl);
    st.upToDateWith = undefined;
    const settled = this.settle(req.typeUrl, st, req);
    const changed = this.protocol === 'sotw' ? this.subscribeSotw(req.typeUrl, st, req.resourceNames ?? NO_STRINGS) : this.subscribeDelta(req.typeUrl, st, req);
    st.requested = true;
    if (changed) this.checkLimits();
    return settled;
  }

  /**
   * The next response the client should get, recorded as in flight; undefined when it lacks nothing.
   * `skip`: types already answered in this round (each type answers at most once per round).
   */
  /**
   * What the client lacks because it rejected it: resources whose current version (or removal) it
   * NACKed on its own, and whether a rejected response is still being bisected.
   */
  heldBack(typeUrl: XdsTypeUrl, snapshot: Snapshot): { names: string[]; bisecting: boolean } {
    const st = this.stateOf(typeUrl);
    if (!st || (st.rejected.size === 0 && st.isolate === 0)) return NOTHING_HELD;
    const set = this.setOf(snapshot, typeUrl).resources;
    const names: string[] = [];
    for (const [name, v] of st.rejected) {
      const current = set.get(name);
      if (v === REMOVAL ? !current && this.mayHold(st, name) : current?.version === v) names.push(name);
    }
    return { names, bisecting: st.isolate > 0 };
  }

  next(snapshot: Snapshot, skip: ReadonlySet<XdsTypeUrl> = NO_TYPES): ResponseOut | undefined {
    for (let i = 0; i < PUSH_ORDER.length; i++) {
      const typeUrl = PUSH_ORDER[i]!;
      const st = this.slots[i];
      if (!st || skip.has(typeUrl)) continue;
      const out = this.respond(typeUrl, st, snapshot);
      if (out) return out;
    }
    return undefined;
  }

  private stateOf(typeUrl: XdsTypeUrl): TypeState | undefined {
    return this.slots[typeSlot(typeUrl)];
  }

  private typeState(typeUrl: XdsTypeUrl): TypeState {
    let st = this.stateOf(typeUrl);
    if (!st) {
      st = {
        wildcard: false,
        names: new Set(),
        acked: new Map(),
        uncertain: new Set(),
        inFlight: [],
        rejected: new Map(),
        isolate: 0,
        requested: false,
        answered: false,
        upToDateWith: undefined,
      };
      this.slots[typeSlot(typeUrl)] = st;
    }
    return st;
  }

  private checkLimits(): void {
    let n = 0;
    for (const st of this.slots) if (st) n += st.names.size;
    if (n > this.limits.maxSubscriptions) throw new SubscriptionLimitError(`too many subscribed resources (${n} > ${this.limits.maxSubscriptions})`);
  }

  private settle(typeUrl: XdsTypeUrl, st: TypeState, req: RequestIn): Settled | undefined {
    if (!req.nonce) return undefined;
    let i = st.inFlight.length - 1;
    while (i >= 0 && st.inFlight[i]!.nonce !== req.nonce) i--;
    if (i < 0) return undefined; // stale or unknown nonce: nothing to settle
    const r = st.inFlight[i]!;
    if (i === 0) st.inFlight.shift();
    else st.inFlight.splice(0, i + 1); // older unanswered responses were superseded
    if (req.error) {
      if (r.unknown.size) for (const name of r.unknown) if (st.wildcard || st.names.has(name)) st.uncertain.add(name);
      this.rejectedResponse(st, r);
      return { kind: 'nack', typeUrl, version: r.version, resources: [...r.resources.keys()], error: req.error };
    }
    if (r.full) {
      for (const name of [...st.acked.keys()]) if (!r.resources.has(name)) st.acked.delete(name);
      st.uncertain.clear();
    }
    for (const [name, e] of r.resources) {
      st.acked.set(name, e);
      st.uncertain.delete(name);
    }
    if (r.removed.size)
      for (const name of r.removed) {
        st.acked.delete(name);
        st.uncertain.delete(name);
      }
    if (r.unknown.size) for (const name of r.unknown) if (st.wildcard || st.names.has(name)) st.uncertain.add(name);
    if (st.rejected.size)
      for (const [name, v] of st.rejected) if (v === REMOVAL ? !st.acked.has(name) : versionOf(st.acked.get(name)) === v) st.rejected.delete(name);
    return { kind: 'ack', typeUrl, version: r.version, publishedAt: r.publishedAt };
  }

  /**
   * A NACK: what the client ACKed stays its known state, and what the response changed becomes
   * uncertain. One rejected change is remembered (not re-sent until it changes) and the others go
   * together again; several are bisected (half of them per response, one response at a time, halved
   * again on each NACK), so the good ones get through and a bad one among n is found in ~2·log2(n)
   * round trips rather than n.
   */
  private rejectedResponse(st: TypeState, r: InFlight): void {
    // Suspects: what differs from what the client ACKed (entries re-sent at their ACKed version were valid
    // once and are not suspects; a full-state response carries them for every resource it does not change).
    const gone = (name: string): boolean => r.removed.has(name) || (r.full && !r.resources.has(name));
    const removals: Array<[string, string]> = [];
    for (const name of new Set([...st.acked.keys(), ...st.uncertain])) if (gone(name)) removals.push([name, REMOVAL]);
    let changes: Array<[string, string]> = [];
    for (const [name, e] of r.resources) if (versionOf(st.acked.get(name)) !== e.version) changes.push([name, e.version]);
    changes.push(...removals);
    // Names forgotten while it was in flight and asked for again: the client took whatever it carried for them.
    for (const name of r.unknown) if (st.wildcard || st.names.has(name)) changes.push([name, FORGOTTEN]);
    if (changes.length === 0) {
      // Nothing new in it (only entries re-sent at their ACKed version): every uncertain one is a suspect.
      changes = [];
      for (const [name, e] of r.resources) if (st.uncertain.has(name)) changes.push([name, e.version]);
    }
    for (const [name] of changes) st.uncertain.add(name);
    if (changes.length === 1) {
      // One suspect: the culprit (unless it is a forgotten one, whose rejected version is not known: it is re-sent).
      if (changes[0]![1] !== FORGOTTEN) st.rejected.set(changes[0]![0], changes[0]![1]);
      st.isolate = 0;
    } else if (changes.length > 1) st.isolate = Math.ceil(changes.length / 2);
  }

  /** Applies a SotW request's names; false when the subscription did not change (an ACK). */
  private subscribeSotw(typeUrl: XdsTypeUrl, st: TypeState, names: readonly string[]): boolean {
    if (names.length > this.limits.maxSubscriptions)
      throw new SubscriptionLimitError(`too many resource names in one request (${names.length} > ${this.limits.maxSubscriptions})`);
    checkNames(names, 'resource name');
    const rules = TYPE_RULES[typeUrl];
    // Legacy wildcard: an empty list on the first request (and while it stays wildcard); `*` explicitly.
    const wildcard = rules.wildcard && (names.includes('*') || (names.length === 0 && (!st.requested || st.wildcard)));
    if (wildcard === st.wildcard && sameNames(names, st.names)) return false; // an ACK: the subscription did not change
    const next = new Set(names.filter((n) => n !== '*'));
    if (!wildcard) for (const n of this.heldNames(st)) if (!next.has(n)) this.forget(st, n);
    st.wildcard = wildcard;
    st.names = next;
    return true;
  }

  /** Applies a Delta request's (un)subscriptions; false for an ACK that changes none. */
  private subscribeDelta(typeUrl: XdsTypeUrl, st: TypeState, req: RequestIn): boolean {
    const subscribe = req.subscribe ?? NO_STRINGS;
    const unsubscribe = req.unsubscribe ?? NO_STRINGS;
    if (st.requested && subscribe.length === 0 && unsubscribe.length === 0 && !hasKeys(req.initialVersions)) return false; // an ACK
    const initial = Object.entries(req.initialVersions ?? {});
    if (subscribe.length + initial.length > this.limits.maxSubscriptions)
      throw new SubscriptionLimitError(`too many resource names in one request (${subscribe.length + initial.length} > ${this.limits.maxSubscriptions})`);
    checkNames(subscribe, 'resource name');
    checkNames(unsubscribe, 'resource name');
    checkNames(
      initial.map(([name]) => name),
      'resource name',
    );
    checkNames(
      initial.map(([, version]) => version),
      'resource version',
    );
    if (!st.requested && !req.nonce && TYPE_RULES[typeUrl].wildcard && subscribe.length === 0) st.wildcard = true;
    for (const n of subscribe) {
      if (n === '*') st.wildcard = true;
      else st.names.add(n);
    }
    for (const n of unsubscribe) {
      if (n === '*') st.wildcard = false;
      st.names.delete(n);
      if (!st.wildcard) this.forget(st, n);
    }
    if (!st.requested) for (const [name, version] of initial) st.acked.set(name, version);
    return true;
  }

  private forget(st: TypeState, name: string): void {
    st.upToDateWith = undefined;
    st.acked.delete(name);
    st.uncertain.delete(name);
    st.rejected.delete(name);
    for (const f of st.inFlight) {
      if (f.resources.delete(name) || f.removed.delete(name) || f.full) markUnknown(f, name);
    }
  }

  /** What the client will hold once everything in flight is accepted. */
  private held(st: TypeState, name: string): ResourceEntry | string | undefined {
    for (let i = st.inFlight.length - 1; i >= 0; i--) {
      const f = st.inFlight[i]!;
      if (f.unknown.has(name)) return undefined;
      const e = f.resources.get(name);
      if (e) return e;
      if (f.removed.has(name) || f.full) return undefined;
    }
    return st.acked.get(name);
  }

  /** The client may still hold this resource (nothing in flight removes it). */
  private mayHold(st: TypeState, name: string): boolean {
    for (let i = st.inFlight.length - 1; i >= 0; i--) {
      const f = st.inFlight[i]!;
      if (f.resources.has(name) || f.unknown.has(name)) return true;
      if (f.removed.has(name) || f.full) return false;
    }
    return st.acked.has(name) || st.uncertain.has(name);
  }

  /** The client may lack this version of the resource. */
  private lacks(st: TypeState, e: ResourceEntry): boolean {
    for (let i = st.inFlight.length - 1; i >= 0; i--) {
      const f = st.inFlight[i]!;
      if (f.unknown.has(e.name)) return true;
      const sent = f.resources.get(e.name);
      if (sent) return sent.version !== e.version;
      if (f.removed.has(e.name) || f.full) return true;
    }
    return st.uncertain.has(e.name) || versionOf(st.acked.get(e.name)) !== e.version;
  }

  private heldNames(st: TypeState): Set<string> {
    const names = new Set([...st.acked.keys(), ...st.uncertain]);
    for (const f of st.inFlight) for (const n of f.resources.keys()) names.add(n);
    return names;
  }

  private plan(typeUrl: XdsTypeUrl, st: TypeState, snapshot: Snapshot): Plan {
    const set = this.setOf(snapshot, typeUrl).resources;
    const wanted: ResourceEntry[] = st.wildcard ? [...set.values()] : [...st.names].flatMap((n) => set.get(n) ?? []);
    const advance = wanted.filter((e) => this.lacks(st, e) && st.rejected.get(e.name) !== e.version);
    const removals: string[] = [];
    const forget: string[] = [];
    const retained: ResourceEntry[] = [];
    const implicit = this.protocol === 'sotw' && !TYPE_RULES[typeUrl].fullStateSotw;
    for (const name of st.rejected.keys()) if (!set.has(name) && !this.mayHold(st, name)) st.rejected.delete(name);
    for (const name of this.heldNames(st)) {
      if (set.has(name)) {
        if (st.rejected.get(name) === REMOVAL) st.rejected.delete(name);
        continue;
      }
      if (!this.mayHold(st, name)) continue;
      const held = this.held(st, name);
      if (!this.canRemove(typeUrl, name, snapshot)) {
        if (held !== undefined && typeof held !== 'string') retained.push(held);
      } else if (implicit) forget.push(name);
      else if (st.rejected.get(name) !== REMOVAL) removals.push(name);
      else if (held !== undefined && typeof held !== 'string') retained.push(held);
    }
    return { wanted, advance, removals, forget, retained };
  }

  /** Make-before-break: a resource goes only when nothing the client holds still references it. */
  private canRemove(typeUrl: XdsTypeUrl, name: string, snapshot: Snapshot): boolean {
    const removal = TYPE_RULES[typeUrl].removal;
    if ('parentGone' in removal) {
      const parent = this.stateOf(removal.parentGone);
      return !parent || this.held(parent, name) === undefined;
    }
    return removal.after.every((t) => this.settled(t, snapshot));
  }

  /** The client ACKed the current state of this type: nothing in flight, nothing it lacks. */
  private settled(typeUrl: XdsTypeUrl, snapshot: Snapshot): boolean {
    const st = this.stateOf(typeUrl);
    if (!st) return true;
    if (st.inFlight.length > 0 || st.uncertain.size > 0) return false;
    const set = this.setOf(snapshot, typeUrl).resources;
    const wanted = st.wildcard ? [...set.values()] : [...st.names].flatMap((n) => set.get(n) ?? []);
    if (wanted.some((e) => versionOf(st.acked.get(e.name)) !== e.version)) return false;
    for (const name of st.acked.keys()) if (!set.has(name)) return false;
    return true;
  }

  /**
   * The common case, without building a plan: nothing in flight, uncertain or rejected, and the client ACKed every
   * resource it wants at its current version and nothing that is gone (`plan` would find nothing to send).
   */
  private upToDate(typeUrl: XdsTypeUrl, st: TypeState, snapshot: Snapshot): boolean {
    const typeSet = this.setOf(snapshot, typeUrl);
    if (st.upToDateWith === typeSet) return true; // neither this state nor the set changed since
    if (!st.answered || st.isolate || st.inFlight.length > 0 || st.uncertain.size > 0 || st.rejected.size > 0) return false;
    const set = typeSet.resources;
    for (const name of st.acked.keys()) if (!set.has(name)) return false;
    if (st.wildcard) {
      for (const e of set.values()) if (versionOf(st.acked.get(e.name)) !== e.version) return false;
    } else {
      for (const name of st.names) {
        const e = set.get(name);
        if (e && versionOf(st.acked.get(name)) !== e.version) return false;
      }
    }
    st.upToDateWith = typeSet;
    return true;
  }

  /**
   * The common change, without a plan: nothing in flight, uncertain, rejected or being bisected, and every resource the
   * client ACKed still exists. What changes is then what it wants at a version it did not ACK (a full-state type sends
   * those with the rest at the version it holds: `quickFullState`). Undefined: the general path decides.
   */
  private quickChange(st: TypeState, set: ReadonlyMap<string, ResourceEntry>): ResourceEntry[] | undefined {
    if (!st.answered || st.isolate || st.inFlight.length > 0 || st.uncertain.size > 0 || st.rejected.size > 0) return undefined;
    for (const name of st.acked.keys()) if (!set.has(name)) return undefined;
    const advance: ResourceEntry[] = [];
    if (st.wildcard) {
      for (const e of set.values()) if (versionOf(st.acked.get(e.name)) !== e.version) advance.push(e);
    } else
      for (const name of st.names) {
        const e = set.get(name);
        if (e && versionOf(st.acked.get(name)) !== e.version) advance.push(e);
      }
    return advance;
  }

  /** `quickChange`'s response for a full-state type: everything the client wants, what it lacks at the current version. */
  private quickFullState(st: TypeState, set: ReadonlyMap<string, ResourceEntry>): ResourceEntry[] {
    const resources: ResourceEntry[] = [];
    const add = (e: ResourceEntry | undefined): void => {
      const r = e && fullStateEntry(st, e);
      if (r) resources.push(r);
    };
    if (st.wildcard) for (const e of set.values()) add(e);
    else for (const name of st.names) add(set.get(name));
    return resources;
  }

  private respond(typeUrl: XdsTypeUrl, st: TypeState, snapshot: Snapshot): ResponseOut | undefined {
    if (this.upToDate(typeUrl, st, snapshot)) return undefined;
    st.upToDateWith = undefined;
    const set = this.setOf(snapshot, typeUrl).resources;
    const advance = this.quickChange(st, set);
    if (advance) {
      if (advance.length === 0) return undefined;
      const full = this.protocol === 'sotw' && TYPE_RULES[typeUrl].fullStateSotw;
      return this.send(typeUrl, st, snapshot, advance, full ? this.quickFullState(st, set) : advance, []);
    }
    const plan = this.plan(typeUrl, st, snapshot);
    for (const n of plan.forget) this.forget(st, n);
    if (st.isolate > 0) {
      if (plan.advance.length === 0 && plan.removals.length === 0) st.isolate = 0;
      else if (st.inFlight.length > 0) return undefined;
      else {
        plan.advance.splice(st.isolate);
        plan.removals.splice(st.isolate - plan.advance.length);
      }
    }
    const full = this.protocol === 'sotw' && TYPE_RULES[typeUrl].fullStateSotw;
    const mustAnswer = !st.answered && (this.protocol === 'delta' || st.wildcard);
    if (plan.advance.length === 0 && plan.removals.length === 0 && !mustAnswer) return undefined;
    if (this.protocol === 'sotw' && !full && plan.advance.length === 0) {
      st.answered = true;
      return undefined;
    }
    const advancing = new Map(plan.advance.map((e) => [e.name, e]));
    let resources: ResourceEntry[];
    if (full) {
      // The complete subscribed set: what changed at its new version, the rest as the client holds it.
      resources = [];
      for (const e of plan.wanted) {
        const held = advancing.get(e.name) ?? this.held(st, e.name);
        if (held !== undefined && typeof held !== 'string') resources.push(held);
      }
      for (const e of plan.retained) resources.push(e);
      // In isolation only the removals of this step go: the others stay in the set for now.
      const present = new Set([...resources.map((r) => r.name), ...plan.removals]);
      for (const name of this.heldNames(st)) {
        if (present.has(name) || this.setOf(snapshot, typeUrl).resources.has(name)) continue;
        const held = this.held(st, name);
        if (held !== undefined && typeof held !== 'string') resources.push(held);
      }
    } else resources = plan.advance;
    return this.send(typeUrl, st, snapshot, plan.advance, resources, this.protocol === 'delta' ? plan.removals : []);
  }

  /** Records the response as in flight and returns it; `advance`: the resources it changes. */
  private send(
    typeUrl: XdsTypeUrl,
    st: TypeState,
    snapshot: Snapshot,
    advance: readonly ResourceEntry[],
    resources: ResourceEntry[],
    removed: string[],
  ): ResponseOut {
    const full = this.protocol === 'sotw' && TYPE_RULES[typeUrl].fullStateSotw;
    const rewarms = TYPE_RULES[typeUrl].rewarms;
    if (rewarms) {
      // A changed cluster is re-warmed by Envoy: it must get its endpoints again.
      const child = this.stateOf(rewarms);
      if (child) for (const e of advance) if (this.held(st, e.name) !== undefined) this.forget(child, e.name);
    }
    const out: ResponseOut = {
      typeUrl,
      nonce: `${this.noncePrefix}.${++this.nonceCounter}`,
      version: this.setOf(snapshot, typeUrl).version,
      publishedAt: snapshot.publishedAt,
      resources,
      removed,
    };
    const sent = new Map<string, ResourceEntry>();
    for (const e of resources) sent.set(e.name, e);
    st.inFlight.push({
      nonce: out.nonce,
      version: out.version,
      publishedAt: out.publishedAt,
      resources: sent,
      removed: removed.length ? new Set(removed) : NO_NAMES,
      full,
      unknown: NO_NAMES,
    });
    if (st.inFlight.length > (this.limits.maxInFlight ?? 32)) st.inFlight.shift();
    st.answered = true;
    return out;
  }
}
