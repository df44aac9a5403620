// The kubeletVersion the node reports: the configured Kubernetes version, lowered to the API server's
// own minor when it is newer (the version-skew policy forbids a kubelet newer than its API server),
// with the product's version as a semver pre-release, so `kubectl get nodes` shows what runs there.
// A pre-release sorts below its release: v1.33.0-vic.0.1.0 never claims more than v1.33.0.
import { VicError } from '../../shared/errors.js';

interface Semver {
  major: number;
  minor: number;
  patch: number;
  suffix: string;
}

function parse(text: string, what: string): Semver {
  const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?([-+].*)?$/.exec(text.trim());
  if (!match) throw new VicError('Invalid', `${what} "${text}" is not a version like v1.33.2`);
  return {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3] ?? 0),
    suffix: match[4] ?? '',
  };
}

export interface KubeletVersionInputs {
  /** The configured kubelet version (vic-kubelet's own default, or --kubelet-version). */
  configured: string;
  /** The API server's /version gitVersion, e.g. v1.33.4 or v1.33.4-gke.100. */
  apiServer: string;
  /** src/shared/version.ts productVersion. */
  product: string;
}

export function reportedKubeletVersion(inputs: KubeletVersionInputs): string {
  const configured = parse(inputs.configured, 'the configured kubelet version');
  const server = parse(inputs.apiServer, 'the API server version');
  const newer =
    configured.major > server.major || (configured.major === server.major && configured.minor > server.minor);
  const base = newer
    ? `v${server.major}.${server.minor}.0`
    : `v${configured.major}.${configured.minor}.${configured.patch}`;
  // A version the operator set with its own pre-release or build part is theirs; keep it.
  if (!newer && configured.suffix) return `${base}${configured.suffix}`;
  return `${base}-vic.${inputs.product.replace(/[^0-9A-Za-z.-]/g, '-')}`;
}
