/**
 * Parameter names whose value is a credential: a page view's path or referrer may be a reset or
 * sign-in link (`?token=`, `#access_token=`, `?code=`), which the front end reported as it was.
 * Ingest stores such values redacted; the export redacts again for rows stored before.
 */
const SECRET_PARAM =
  /token|secret|passw|pwd|signature|api[-_]?key|session|ticket|nonce|^(sig|code|key|auth|otp|state)$/i;

function redactParams(params: string): string {
  return params
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      let name = pair.slice(0, eq);
      try {
        name = decodeURIComponent(name);
      } catch {
        // a malformed escape: test the name as it was written
      }
      return SECRET_PARAM.test(name) ? `${pair.slice(0, eq)}=[redacted]` : pair;
    })
    .join('&');
}

/** The URL with the values of credential-like query and fragment parameters replaced. */
export function redactUrl(url: string): string {
  const hashAt = url.indexOf('#');
  const beforeHash = hashAt < 0 ? url : url.slice(0, hashAt);
  const hash = hashAt < 0 ? undefined : url.slice(hashAt + 1);
  const queryAt = beforeHash.indexOf('?');
  const head =
    queryAt < 0
      ? beforeHash
      : `${beforeHash.slice(0, queryAt)}?${redactParams(beforeHash.slice(queryAt + 1))}`;
  return hash === undefined ? head : `${head}#${hash.includes('=') ? redactParams(hash) : hash}`;
}

/**
 * A client event's page URLs (`path`, `referrer`) with their credentials redacted, in place: a
 * page view of a reset or sign-in link carries its token.
 */
export function redactUrlFields(fields: { path?: unknown; referrer?: unknown }): void {
  if (typeof fields.path === 'string') fields.path = redactUrl(fields.path);
  if (typeof fields.referrer === 'string') fields.referrer = redactUrl(fields.referrer);
}
