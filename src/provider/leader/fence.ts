// Fencing: every request a leader makes, to the API server or to the VCH, first checks that its
// lease is still provably held. A process that was paused (SIGSTOP, a frozen VM) and wakes may run
// any callback first (an I/O callback, a timer), so the check sits where requests leave, not on a
// timer. What it cannot stop is a request whose bytes had already left when the process was paused,
// or one paused between the check and the socket write (a few microtasks): that window is why the
// leader stops a margin before its lease could be taken over.
import type { RequestContext } from '@kubernetes/client-node';
import { KubeConfig } from '@kubernetes/client-node';

/** Returns when this replica may act; never returns otherwise (it throws, or the process exits). */
export type Fence = () => void;

/** A KubeConfig whose every request (API calls, watches, WebSockets) passes the fence first. */
export class FencedKubeConfig extends KubeConfig {
  readonly #fence: Fence;

  constructor(fence: Fence) {
    super();
    this.#fence = fence;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    this.#fence();
  }

  override async applyToHTTPSOptions(opts: Parameters<KubeConfig['applyToHTTPSOptions']>[0]): Promise<void> {
    await super.applyToHTTPSOptions(opts);
    this.#fence();
  }
}

/** The part of docker-modem every Docker API call goes through. */
export interface DialingModem {
  dial(...args: never[]): unknown;
}

/** Makes every Docker API request of this modem pass the fence first. */
export function fenceModem(modem: DialingModem, fence: Fence): void {
  const dial = modem.dial.bind(modem) as (...args: unknown[]) => unknown;
  (modem as { dial: (...args: unknown[]) => unknown }).dial = (...args: unknown[]) => {
    fence();
    return dial(...args);
  };
}
