/** Registered benchmark sections, in run order. Add new ones (health checks, reports, …) here. */
import { adsCostSection } from './ads-cost.js';
import { healthDrainSection } from './health-drain.js';
import { healthScaleSection } from './health-scale.js';
import { idleSection } from './idle.js';
import { reportsSection } from './reports.js';
import { restartSection } from './restart.js';
import { storeSection } from './store.js';
import type { Section } from './types.js';
import { replicasSection } from './replicas.js';
import { weightsSection } from './weights.js';
import { xdsSection } from './xds.js';

export const sections: Section[] = [
  xdsSection,
  adsCostSection,
  healthDrainSection,
  healthScaleSection,
  restartSection,
  reportsSection,
  idleSection,
  storeSection,
  weightsSection,
  replicasSection,
];
