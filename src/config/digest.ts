/**
 * A digest of the configuration sections every replica must share (what is served and how it is
 * decided), one per section, so replicas can tell which section differs. Key order in the file does
 * not matter (canonical JSON); comments and other sections (listen addresses, store, tokens) do not count.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import type { Config } from './schema.js';

export const SHARED_SECTIONS = ['clusters', 'listeners', 'routes', 'health'] as const;
export type SharedSection = (typeof SHARED_SECTIONS)[number];
export type ConfigDigest = Record<SharedSection, string>;

export function sharedConfigDigest(config: Readonly<Config>): ConfigDigest {
  const digest = (value: unknown): string =>
    createHash('sha256')
      .update(stringify(value) ?? '')
      .digest('hex')
      .slice(0, 16);
  return { clusters: digest(config.clusters), listeners: digest(config.listeners), routes: digest(config.routes), health: digest(config.health) };
}

/** The sections whose digests differ (sections missing on either side are not compared). */
export function differingSections(a: Partial<Record<string, string>>, b: Partial<Record<string, string>>): SharedSection[] {
  return SHARED_SECTIONS.filter((s) => a[s] !== undefined && b[s] !== undefined && a[s] !== b[s]);
}
