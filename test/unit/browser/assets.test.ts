// functions/browser/assets.ts must be what web/build-assets.ts makes of web/ today, and hold all the page loads.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ASSETS } from '../../../functions/browser/assets.ts';
import { ASSETS_MODULE, readWebFiles, renderAssetsModule } from '../../../web/build-assets.ts';

const REGENERATE = 'functions/browser/assets.ts is stale: run `node --import tsx web/build-assets.ts`';

describe('bundled browser assets', () => {
  it('are up to date with web/', () => {
    expect(readFileSync(ASSETS_MODULE, 'utf8'), REGENERATE).toBe(renderAssetsModule(readWebFiles()));
  });

  it('include every file index.html and the modules refer to', () => {
    const text = (name: string) => Buffer.from(ASSETS[name] ?? '', 'base64').toString();
    const wanted = new Set<string>();
    for (const match of text('index.html').matchAll(/(?:src|href)="\/assets\/([^"]+)"/g))
      wanted.add(match[1] ?? '');
    for (const name of Object.keys(ASSETS).filter((n) => n.endsWith('.js'))) {
      for (const match of text(name).matchAll(/from '\.\/([^']+)'/g)) wanted.add(match[1] ?? '');
    }
    expect([...wanted].sort()).toEqual(expect.arrayContaining(['app.js', 'favicon.svg', 'style.css']));
    for (const name of wanted) expect(Object.keys(ASSETS), name).toContain(name);
  });

  it('leave out the build script and type declarations', () => {
    expect(Object.keys(ASSETS).filter((name) => name.endsWith('.ts'))).toEqual([]);
  });
});
