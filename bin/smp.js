#!/usr/bin/env node
// Entry point of the `smp` command: the kit ships TypeScript sources and runs them through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../core/cli.ts');
