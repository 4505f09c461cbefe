// How every function is bundled: plain constants shared by the CDK construct, the bundling tests and the bench.
import { fileURLToPath } from 'node:url';

/**
 * ESM output loses `require`; CJS dependencies bundled into it still call it, so give them one.
 * The aliased import keeps the banner from colliding with bundled code that imports createRequire itself.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __archiverCreateRequire } from 'node:module'; const require = __archiverCreateRequire(import.meta.url);";

/**
 * Module aliases of every bundle. The SDK's default credential chain (SSO, INI, process, web identity, each with
 * its own clients) becomes Lambda's two sources, environment then container endpoint: see
 * functions/adapters/lambda-credentials.ts. Absolute paths: esbuild resolves alias targets from its working directory.
 */
export const FUNCTION_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': fileURLToPath(
    new URL('../functions/adapters/lambda-credentials.ts', import.meta.url),
  ),
};

/**
 * esbuild settings of every function bundle (docs/architecture.md "The deployed shape"): one minified ESM file
 * for Node 22 that carries its own AWS SDK and @smithy packages, so nothing is external but `node:` built-ins
 * and the code in Lambda is the code the tests ran. No source map: nothing loads it at run time.
 */
export const FUNCTION_BUNDLE = {
  format: 'esm',
  platform: 'node',
  target: 'node22',
  minify: true,
  // ESM builds of dependencies first: they tree-shake, and need no require() at all.
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  alias: FUNCTION_ALIASES,
} as const;
