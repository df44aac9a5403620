// Image references: validation against Docker's reference grammar before anything reaches the VCH,
// the registry host an image comes from, and which registry credentials apply to it.
import { VicError } from '../shared/errors.js';
import type { RegistryCredential } from './types.js';

export interface ImageReference {
  /** Registry host as written (`127.0.0.1:15000`), `docker.io` when the reference names none. */
  domain: string;
  /** Repository path without the domain (`library/busybox`, `vic/busybox`). */
  path: string;
  tag?: string;
  digest?: string;
  /** What to hand to `/images/create?fromImage=`: `domain/path` as the user wrote it. */
  repository: string;
}

// From github.com/distribution/reference (regexp.go), written out.
const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const domainRe = new RegExp(`^(?:${domainName}|${ipv6})(?::[0-9]+)?$`);
const pathComponentRe = new RegExp(`^${pathComponent}$`);
const tagRe = /^[\w][\w.-]{0,127}$/;
const digestRe = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const MAX_NAME_LENGTH = 255;

function invalid(image: string, why: string): VicError {
  return new VicError('InvalidImageName', `invalid image name "${image}": ${why}`, { details: { image } });
}

/** Parses and validates; throws InvalidImageName with the reason a user can fix. */
export function parseReference(image: string): ImageReference {
  if (image.length === 0) throw invalid(image, 'it is empty');
  if (image !== image.trim()) throw invalid(image, 'it has leading or trailing spaces');
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestRe.test(digest))
      throw invalid(image, `"${digest}" is not a digest like sha256:<64 hex digits>`);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!tagRe.test(tag)) throw invalid(image, `"${tag}" is not a valid tag`);
  }
  if (rest.length === 0) throw invalid(image, 'it names no repository');
  if (rest.length > MAX_NAME_LENGTH)
    throw invalid(image, `the repository name is longer than ${MAX_NAME_LENGTH} characters`);
  const parts = rest.split('/');
  let domain = 'docker.io';
  const first = parts[0] ?? '';
  // The first component is a registry host only when it looks like one, as in Docker.
  if (
    parts.length > 1 &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())
  ) {
    if (!domainRe.test(first)) throw invalid(image, `"${first}" is not a valid registry host`);
    domain = first;
    parts.shift();
  }
  for (const part of parts) {
    if (!pathComponentRe.test(part)) {
      const why =
        part !== part.toLowerCase()
          ? 'repository names must be lowercase'
          : `"${part}" is not a valid path component`;
      throw invalid(image, why);
    }
  }
  let path = parts.join('/');
  if (domain === 'docker.io' && parts.length === 1) path = `library/${path}`;
  const ref: ImageReference = { domain, path, repository: rest };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** Kubernetes' default pull policy: Always for `:latest` or an untagged image, else IfNotPresent. */
export function defaultPullPolicy(ref: ImageReference): 'Always' | 'IfNotPresent' {
  if (ref.digest !== undefined) return 'IfNotPresent';
  return ref.tag === undefined || ref.tag === 'latest' ? 'Always' : 'IfNotPresent';
}

const dockerHubAliases = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

/** `https://index.docker.io/v1/` → `docker.io`; `127.0.0.1:15000/v2/` → `127.0.0.1:15000`. */
export function normalizeRegistry(registry: string): { host: string; path: string } {
  const withoutScheme = registry.trim().replace(/^[a-z]+:\/\//i, '');
  const slash = withoutScheme.indexOf('/');
  const host = (slash >= 0 ? withoutScheme.slice(0, slash) : withoutScheme).toLowerCase();
  let path = slash >= 0 ? withoutScheme.slice(slash + 1).replace(/\/+$/, '') : '';
  // API version paths in docker configs name the API, not a repository prefix.
  if (/^v[12]$/.test(path)) path = '';
  return { host: dockerHubAliases.has(host) ? 'docker.io' : host, path };
}

/**
 * The credentials that apply to an image, most specific first (a credential with a repository
 * path prefix before a host-only one), as kubelet tries them in turn.
 */
export function credentialsFor(
  ref: ImageReference,
  credentials: readonly RegistryCredential[],
): RegistryCredential[] {
  const host = normalizeRegistry(ref.domain).host;
  const matches: { cred: RegistryCredential; specificity: number }[] = [];
  for (const cred of credentials) {
    const reg = normalizeRegistry(cred.registry);
    if (reg.host !== host) continue;
    if (reg.path && ref.path !== reg.path && !ref.path.startsWith(`${reg.path}/`)) continue;
    matches.push({ cred, specificity: reg.path.length });
  }
  return matches.sort((a, b) => b.specificity - a.specificity).map((m) => m.cred);
}
