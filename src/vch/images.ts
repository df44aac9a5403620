// Images on the VCH: presence, pulls by pull policy with the matching registry credentials, pull
// errors classified for the user, and one pull per image at a time however many pods ask.
import { VicError } from '../shared/errors.js';
import { callOrUndefined, dockerMessage, statusCodeOf, toVicError, type VchClient } from './client.js';
import { credentialsFor, defaultPullPolicy, parseReference, type ImageReference } from './reference.js';
import type { PullPolicy, RegistryCredential } from './types.js';

export interface ImageInfo {
  /** `sha256:...` */
  id: string;
  repoTags: string[];
  repoDigests: string[];
  entrypoint: string[];
  cmd: string[];
  /** Config.User: who the image runs as when the container names no user ('' for root). */
  user?: string;
}

export interface EnsureImageOptions {
  policy?: PullPolicy;
  credentials?: readonly RegistryCredential[];
}

export interface ImagesOptions {
  /** A pull that makes no progress for this long is abandoned (Timeout). */
  pullTimeoutMs?: number;
}

type PullFailure =
  'ImageNotFound' | 'ImageUnauthorized' | 'RegistryUnavailable' | 'InvalidImageName' | 'Internal';

/** Reads what kind of failure a registry error message describes (dockerd passes the registry's words on). */
export function classifyPullError(message: string): PullFailure {
  if (/invalid reference format|repository name must be/i.test(message)) return 'InvalidImageName';
  // Docker Hub answers this for both missing and private repositories; "does not exist" comes first.
  if (/pull access denied/i.test(message)) return 'ImageNotFound';
  if (
    /unauthorized|authentication required|no basic auth credentials|incorrect username or password|denied|forbidden/i.test(
      message,
    )
  ) {
    return 'ImageUnauthorized';
  }
  if (/manifest unknown|not found|does not exist|no such image|name unknown/i.test(message))
    return 'ImageNotFound';
  if (
    /connection refused|no such host|i\/o timeout|dial tcp|tls handshake|network is unreachable|server gave http response|timeout|x509|service unavailable|bad gateway|\bEOF\b|connection reset/i.test(
      message,
    )
  ) {
    return 'RegistryUnavailable';
  }
  return 'Internal';
}

function toStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export class Images {
  readonly #client: VchClient;
  readonly #pullTimeoutMs: number;
  readonly #inflight = new Map<string, Promise<void>>();

  constructor(client: VchClient, options: ImagesOptions = {}) {
    this.#client = client;
    this.#pullTimeoutMs = options.pullTimeoutMs ?? 5 * 60_000;
  }

  /** The image as the VCH has it, or undefined when it is not there. */
  async inspect(image: string): Promise<ImageInfo | undefined> {
    const data = await callOrUndefined(this.#client, `inspect image ${image}`, () =>
      this.#client.docker.getImage(image).inspect(),
    );
    if (!data) return undefined;
    return {
      id: data.Id,
      repoTags: toStrings(data.RepoTags),
      repoDigests: toStrings(data.RepoDigests),
      entrypoint: toStrings(data.Config?.Entrypoint),
      cmd: toStrings(data.Config?.Cmd),
      user: typeof data.Config?.User === 'string' ? data.Config.User : '',
    };
  }

  /** Makes the image present according to the pull policy and returns it. */
  async ensure(image: string, options: EnsureImageOptions = {}): Promise<ImageInfo> {
    const ref = parseReference(image);
    const policy = options.policy ?? defaultPullPolicy(ref);
    if (policy !== 'Always') {
      const present = await this.inspect(image);
      if (present) return present;
      if (policy === 'Never') {
        throw new VicError(
          'ImageNotFound',
          `image "${image}" is not present on the VCH and its pull policy is Never: load it onto the VCH or change imagePullPolicy`,
          { details: { image, policy, reason: 'ErrImageNeverPull' } },
        );
      }
    }
    await this.pull(image, options.credentials ?? []);
    const pulled = await this.inspect(image);
    if (!pulled)
      throw new VicError('ImageNotFound', `image "${image}" was pulled but the VCH does not list it`);
    return pulled;
  }

  /** Pulls, trying each matching credential in turn; concurrent pulls of one image share one request. */
  async pull(image: string, credentials: readonly RegistryCredential[]): Promise<void> {
    const ref = parseReference(image);
    const creds = credentialsFor(ref, credentials);
    const key = `${image}\n${creds.map((c) => `${c.username}:${c.password}`).join('\n')}`;
    const running = this.#inflight.get(key);
    if (running) return running;
    const pulling = this.#pullWithCredentials(image, ref, creds).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, pulling);
    return pulling;
  }

  async #pullWithCredentials(image: string, ref: ImageReference, creds: RegistryCredential[]): Promise<void> {
    if (creds.length === 0) return this.#pullOnce(image, ref, undefined);
    let last: unknown;
    for (const cred of creds) {
      try {
        return await this.#pullOnce(image, ref, cred);
      } catch (err) {
        // Another credential for the same registry may be the right one, as kubelet tries them all.
        if (!(err instanceof VicError) || err.code !== 'ImageUnauthorized') throw err;
        last = err;
      }
    }
    throw last;
  }

  async #pullOnce(image: string, ref: ImageReference, cred: RegistryCredential | undefined): Promise<void> {
    const auth = cred
      ? { username: cred.username, password: cred.password, serveraddress: ref.domain }
      : undefined;
    const tag = ref.digest ?? ref.tag ?? 'latest';
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.#client.docker.createImage(auth, { fromImage: ref.repository, tag });
    } catch (err) {
      if (statusCodeOf(err) === undefined)
        throw toVicError(err, `pull image "${image}"`, this.#client.endpoint);
      throw this.#pullError(image, ref, cred, dockerMessage(err), err);
    }
    const message = await this.#readProgress(image, stream);
    if (message !== undefined) throw this.#pullError(image, ref, cred, message);
  }

  /** Reads the progress stream to its end; resolves with the error message the daemon reported, if any. */
  #readProgress(image: string, stream: NodeJS.ReadableStream): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      let buffered = '';
      let error: string | undefined;
      let timer = setTimeout(onStall, this.#pullTimeoutMs);
      const pullTimeoutMs = this.#pullTimeoutMs;
      function onStall(): void {
        const readable = stream as NodeJS.ReadableStream & { destroy?: () => void };
        readable.destroy?.();
        reject(new VicError('Timeout', `pull image "${image}": no progress for ${pullTimeoutMs} ms`));
      }
      stream.on('data', (chunk: Buffer | string) => {
        clearTimeout(timer);
        timer = setTimeout(onStall, pullTimeoutMs);
        buffered += chunk.toString();
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (!line) continue;
          try {
            const event = JSON.parse(line) as { error?: unknown; errorDetail?: { message?: unknown } };
            const text = event.errorDetail?.message ?? event.error;
            if (typeof text === 'string') error ??= text;
          } catch {
            // A progress line that is not JSON carries no error; the end of the stream decides.
          }
        }
      });
      stream.on('error', (err: unknown) => {
        clearTimeout(timer);
        reject(toVicError(err, `pull image "${image}"`, this.#client.endpoint));
      });
      stream.on('end', () => {
        clearTimeout(timer);
        resolve(error);
      });
    });
  }

  #pullError(
    image: string,
    ref: ImageReference,
    cred: RegistryCredential | undefined,
    raw: string,
    cause?: unknown,
  ): VicError {
    const message = redact(raw, cred);
    const kind = classifyPullError(message);
    // Never the user name: the message lands in pod statuses and events.
    const details = { image, registry: ref.domain, withCredentials: cred !== undefined };
    const base = `pull image "${image}"`;
    switch (kind) {
      case 'ImageUnauthorized':
        return new VicError(
          kind,
          cred
            ? `${base}: registry ${ref.domain} refused the credentials given for it (${redact(message, cred)}); check the image pull secret`
            : `${base}: registry ${ref.domain} requires credentials and none were given for it (${message}); add an image pull secret for ${ref.domain}`,
          { cause, details },
        );
      case 'ImageNotFound':
        return new VicError(kind, `${base}: the registry ${ref.domain} has no such image (${message})`, {
          cause,
          details,
        });
      case 'RegistryUnavailable':
        return new VicError(
          kind,
          `${base}: registry ${ref.domain} is unreachable from the VCH (${message})`,
          {
            cause,
            details,
          },
        );
      case 'InvalidImageName':
        return new VicError(kind, `${base}: ${message}`, { cause, details });
      default:
        return new VicError('Internal', `${base}: ${message}`, { cause, details });
    }
  }
}

/** A registry's answer with the user name and password taken out: registries echo them back. */
function redact(message: string, cred: RegistryCredential | undefined): string {
  if (!cred) return message;
  let out = message;
  for (const secret of [cred.password, cred.username]) {
    if (secret.length > 0) out = out.split(secret).join('***');
  }
  return out;
}
