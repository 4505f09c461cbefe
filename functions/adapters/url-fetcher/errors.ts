// Why a guarded fetch did not return an image: refused by policy, or failed on the way.

/** The URL, an address it resolved to, a redirect, the size or the type broke the fetch policy. */
export class UrlRefusedError extends Error {
  override name = 'UrlRefusedError';
}

/** The fetch was allowed but did not work: timeout, network error, an HTTP error status. */
export class UrlFetchFailedError extends Error {
  override name = 'UrlFetchFailedError';
}
