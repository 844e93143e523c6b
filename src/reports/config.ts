/** The reports section's schema lives with the rest of the configuration (src/config/reports-schema.ts). */
export * from '../config/reports-schema.js';
