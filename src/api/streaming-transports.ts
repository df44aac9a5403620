// Joins the server's streaming seam to the transports: an authorized exec, attach or port-forward
// upgrade is handed to SPDY or WebSocket, whose neutral session goes to the provider.
import type { ContainerStreams } from '../provider/kubelet-api.js';
import type { Logger } from '../shared/logger.js';
import { handleStreamingUpgrade, type StreamingUpgrade } from './streaming/handle-upgrade.js';
import type { StreamingHandler, StreamingRoute } from './streaming-route.js';

function upgradeFor(route: StreamingRoute, provider: ContainerStreams, logger?: Logger): StreamingUpgrade {
  const { pod, container = '' } = route;
  const common = logger ? { logger } : {};
  if (route.kind === 'portforward') {
    return {
      kind: 'portforward',
      onPortForward: ({ port, stream }) => provider.portForward(pod, port, stream),
      ...common,
    };
  }
  if (route.kind === 'exec') {
    return {
      kind: 'exec',
      onAttach: (session, options) => provider.exec(pod, container, [...options.command], session),
      ...common,
    };
  }
  return { kind: 'attach', onAttach: (session) => provider.attach(pod, container, session), ...common };
}

export function streamingTransports(provider: ContainerStreams, logger?: Logger): StreamingHandler {
  return (req, socket, head, route) => {
    // handleStreamingUpgrade never rejects: every failure is answered on the socket itself.
    void handleStreamingUpgrade(req, socket, head, upgradeFor(route, provider, logger));
  };
}
