#!/usr/bin/env node
// Launcher for the archiver CLI (bin/cli.ts), so `npx archiver` runs the TypeScript source directly.
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('./cli.ts');
