#!/usr/bin/env node
// Runs the TypeScript entry point through tsx's loader: no build step between `npm ci` and `npx kuma-cp run`.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
