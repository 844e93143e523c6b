#!/usr/bin/env node
// Runs the TypeScript CLI in-process through tsx (no build step); signals reach the CLI directly.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
