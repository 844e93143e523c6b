import { TYPE, type XdsTypeUrl } from './protos.js';

/**
 * What the xDS protocol says about each resource type, as data rather than switch blocks.
 * (Envoy's "xDS REST and gRPC protocol": Listener and Cluster support wildcard subscriptions and
 * their SotW responses carry the complete subscribed set, a missing resource meaning deleted;
 * RouteConfiguration and ClusterLoadAssignment are sent only when changed and are removed
 * implicitly, when no parent refers to them any more.)
 */
export interface TypeRules {
  /** An empty first request or the name `*` subscribes to every resource of the type. */
  readonly wildcard: boolean;
  /** SotW responses carry every subscribed resource; omission means deletion. */
  readonly fullStateSotw: boolean;
  /**
   * Make-before-break: when a resource of this type may go.
   * `after`: once the client has ACKed the current state of these types (nothing references it any more);
   * `parentGone`: once the client no longer holds the resource of the same name in that type.
   */
  readonly removal: { readonly after: readonly XdsTypeUrl[] } | { readonly parentGone: XdsTypeUrl };
  /** A changed resource of this type makes the client re-request the same-named resource of that type (Envoy re-warms a changed cluster). */
  readonly rewarms?: XdsTypeUrl;
  /**
   * The names in a resource's `refs` are resources of this type, and a snapshot is published only when they all
   * exist (go-control-plane's `Snapshot.Consistent`): a listener's route configuration, a route's clusters, an EDS
   * cluster's assignment, an assignment's cluster.
   */
  readonly refersTo: XdsTypeUrl;
}

export const TYPE_RULES: Readonly<Record<XdsTypeUrl, TypeRules>> = {
  [TYPE.listener]: { wildcard: true, fullStateSotw: true, removal: { after: [] }, refersTo: TYPE.route },
  [TYPE.route]: { wildcard: false, fullStateSotw: false, removal: { after: [TYPE.listener] }, refersTo: TYPE.cluster },
  [TYPE.cluster]: { wildcard: true, fullStateSotw: true, removal: { after: [TYPE.listener, TYPE.route] }, rewarms: TYPE.endpoint, refersTo: TYPE.endpoint },
  [TYPE.endpoint]: { wildcard: false, fullStateSotw: false, removal: { parentGone: TYPE.cluster }, refersTo: TYPE.cluster },
};
