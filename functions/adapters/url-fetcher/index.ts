// The UrlFetcher port's implementation: guarded fetches that only ever return real images.
import type { Config } from '../../config.ts';
import type { FetchedImage, UrlFetcher } from '../../core/ports.ts';
import { UrlFetchFailedError, UrlRefusedError } from './errors.ts';
import { type GuardedFetchOptions, guardedFetch } from './guarded-fetch.ts';
import { mayBeImage, sniffImage } from './image-type.ts';

export { type AddressClass, type AddressRange, classifyAddress } from './address-class.ts';
export { UrlFetchFailedError, UrlRefusedError } from './errors.ts';
export { type GuardedFetchOptions, guardedFetch, type Resolver } from './guarded-fetch.ts';

/** Fetches image URLs through the SSRF guard; the bytes, not the Content-Type header, decide the type. */
export class GuardedUrlFetcher implements UrlFetcher {
  constructor(private readonly options: Omit<GuardedFetchOptions, 'acceptContentType'>) {}

  async fetchImage(url: string): Promise<FetchedImage> {
    try {
      const fetched = await guardedFetch(url, { ...this.options, acceptContentType: mayBeImage });
      const type = sniffImage(fetched.body);
      if (!type)
        return {
          ok: false,
          outcome: 'refused',
          reason: `not a PNG, JPEG, GIF or WebP image (${fetched.contentType ?? 'no Content-Type'})`.slice(
            0,
            200,
          ),
        };
      return { ok: true, body: fetched.body, contentType: type.contentType, ext: type.ext };
    } catch (err) {
      if (err instanceof UrlRefusedError) return { ok: false, outcome: 'refused', reason: err.message };
      if (err instanceof UrlFetchFailedError) return { ok: false, outcome: 'failed', reason: err.message };
      return { ok: false, outcome: 'failed', reason: err instanceof Error ? err.message : String(err) };
    }
  }
}

/** The fetcher the configuration asks for: none unless ARTIFACTS_FETCH_URLS is on. */
export function urlFetcherFromConfig(config: Config): UrlFetcher | undefined {
  if (!config.ARTIFACTS_FETCH_URLS) return undefined;
  return new GuardedUrlFetcher({
    maxBytes: config.ARTIFACT_MAX_BYTES,
    timeoutMs: config.ARTIFACT_FETCH_TIMEOUT_MS,
    allowHosts: config.ARTIFACT_FETCH_ALLOW_HOSTS,
  });
}
