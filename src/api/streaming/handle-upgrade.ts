// The one entry the HTTP layer calls from its 'upgrade' event for exec, attach and port-forward: picks
// SPDY/3.1 or WebSocket from the request headers, negotiates the protocol version, builds the neutral
// session or port-forward requests, and hands them to the caller's handler. Authentication and
// authorization happen before this call; a request that gets here is allowed.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, type WebSocket } from 'ws';
import type { Clock } from '../../shared/clock.js';
import { findVicError, messageOf } from '../../shared/errors.js';
import { silentLogger, type Logger } from '../../shared/logger.js';
import { SpdySession, type SpdySessionOptions } from '../spdy/session.js';
import { headerTokens, isSpdyUpgrade, STREAM_PROTOCOL_HEADER, upgradeToSpdy } from '../spdy/upgrade.js';
import {
  EXEC_CHANNEL_PROTOCOLS,
  negotiateChannelProtocol,
  PORT_FORWARD_CHANNEL_PROTOCOLS,
  SPDY_TUNNEL_PORT_FORWARD_PROTOCOL,
  type ChannelProtocol,
} from '../websocket/channel-codec.js';
import { isWebSocketUpgrade, offeredSubprotocols, upgradeToWebSocket } from '../websocket/upgrade.js';
import { serveWebSocketExec } from './ws-exec.js';
import { parsePortForwardPorts, serveWebSocketPortForward } from './ws-port-forward.js';
import type { AttachSession, SessionOutcome } from './attach-session.js';
import { parseExecOptions, type ExecOptions } from './exec-options.js';
import type { PortForwardHandler } from './port-forward.js';
import { rejectUpgrade } from '../transport/reject-upgrade.js';
import { serveSpdyExec, SPDY_EXEC_PROTOCOLS } from './spdy-exec.js';
import { serveSpdyPortForward, SPDY_PORT_FORWARD_PROTOCOLS } from './spdy-port-forward.js';

interface CommonSettings {
  /** How long the client has to open its streams (default 30 s, as the kubelet). */
  readonly streamCreationTimeoutMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Frame and header limits, buffer sizes, close grace period of SPDY sessions. */
  readonly spdy?: SpdySessionOptions;
}

export interface AttachUpgrade extends CommonSettings {
  readonly kind: 'exec' | 'attach';
  /** Runs the command (or attaches); the result is reported to the client, a rejection as an error. */
  onAttach(session: AttachSession, options: ExecOptions): Promise<SessionOutcome>;
}

export interface PortForwardUpgrade extends CommonSettings {
  readonly kind: 'portforward';
  onPortForward: PortForwardHandler;
}

export type StreamingUpgrade = AttachUpgrade | PortForwardUpgrade;

/**
 * Serves one upgrade request to its end. Never rejects: protocol errors are answered on the wire
 * (400/403 before the upgrade, RST_STREAM/GOAWAY or a WebSocket close code after it) and logged.
 */
export async function handleStreamingUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  handler: StreamingUpgrade,
): Promise<void> {
  const logger = handler.logger ?? silentLogger;
  const transport = isWebSocketUpgrade(req) ? 'websocket' : isSpdyUpgrade(req) ? 'spdy' : undefined;
  // Which transport reached us: an API server translates WebSocket to SPDY unless the node declares
  // ExtendWebSocketsToKubelet, so this is where an operator (or a test) sees which path is in use.
  logger.debug(
    {
      kind: handler.kind,
      transport,
      offered: headerTokens(
        req,
        transport === 'websocket' ? 'sec-websocket-protocol' : STREAM_PROTOCOL_HEADER,
      ),
      path: pathOnly(req.url),
    },
    'streaming upgrade',
  );
  try {
    const upgrade: Upgrade = { req, socket, head, handler, logger };
    if (transport === 'websocket') await serveWebSocket(upgrade);
    else if (transport === 'spdy') await serveSpdy(upgrade);
    else rejectUpgrade(socket, 400, 'unable to upgrade: want Upgrade: SPDY/3.1 or websocket');
  } catch (error) {
    // The path only: the query of an exec carries the command and its arguments.
    logger.warn({ err: error, path: pathOnly(req.url) }, 'streaming upgrade failed');
    if (!socket.destroyed) socket.destroy();
  }
}

/** exec/attach options from the query; a bad query gets 400 before any upgrade. */
function execOptionsOrReject(
  req: IncomingMessage,
  socket: Duplex,
  handler: AttachUpgrade,
): ExecOptions | undefined {
  try {
    const options = parseExecOptions(req.url ?? '/');
    // attach runs no command; whatever the query says is ignored.
    return handler.kind === 'attach' ? { ...options, command: [] } : options;
  } catch (error) {
    rejectUpgrade(socket, 400, messageOf(error));
    return undefined;
  }
}

/** One upgrade request on its way to a transport. */
interface Upgrade {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  handler: StreamingUpgrade;
  logger: Logger;
}

async function serveSpdy(upgrade: Upgrade): Promise<void> {
  const { req, socket, head, handler, logger } = upgrade;
  const sessionOptions: SpdySessionOptions = { clock: handler.clock, logger, ...handler.spdy };
  if (handler.kind === 'portforward') {
    const upgraded = upgradeToSpdy(req, socket, head, {
      protocols: SPDY_PORT_FORWARD_PROTOCOLS,
      session: sessionOptions,
    });
    if (!upgraded.ok) return;
    await servePortForwardSession(upgraded.session, handler, logger);
    return;
  }
  const options = execOptionsOrReject(req, socket, handler);
  if (options === undefined) return;
  const upgraded = upgradeToSpdy(req, socket, head, {
    protocols: SPDY_EXEC_PROTOCOLS,
    session: sessionOptions,
  });
  if (!upgraded.ok) return;
  const session = await serveSpdyExec(upgraded.session, upgraded.protocol, options, handler).catch(
    (error: unknown) => {
      logger.info({ err: error }, 'exec streams were not opened');
      return undefined;
    },
  );
  if (session === undefined) return;
  await runAttach(handler, session, options, logger);
}

function servePortForwardSession(
  session: SpdySession,
  handler: PortForwardUpgrade,
  logger: Logger,
): Promise<void> {
  session.on('protocol-error', (error) => logger.debug({ err: error }, 'port-forward protocol error'));
  serveSpdyPortForward(session, handler.onPortForward, { ...handler, logger });
  return new Promise((resolve) => session.once('close', resolve));
}

async function serveWebSocket(upgrade: Upgrade): Promise<void> {
  const { req, socket, head, handler, logger } = upgrade;
  const offered = offeredSubprotocols(req);
  const refuse = (supported: readonly ChannelProtocol[]): void =>
    rejectUpgrade(
      socket,
      403,
      `unable to upgrade: requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${supported
        .map((protocol) => protocol.name || '(none)')
        .join(' ')}]`,
    );

  if (handler.kind === 'portforward') {
    if (offered.includes(SPDY_TUNNEL_PORT_FORWARD_PROTOCOL)) {
      const ws = await upgradeToWebSocket(req, socket, head, SPDY_TUNNEL_PORT_FORWARD_PROTOCOL);
      if (ws === undefined) return;
      const session = new SpdySession(createWebSocketStream(ws), {
        clock: handler.clock,
        logger,
        ...handler.spdy,
      });
      await servePortForwardSession(session, handler, logger);
      return;
    }
    const protocol = negotiateChannelProtocol(offered, PORT_FORWARD_CHANNEL_PROTOCOLS);
    if (protocol === undefined) return refuse(PORT_FORWARD_CHANNEL_PROTOCOLS);
    let ports: number[];
    try {
      ports = parsePortForwardPorts(req.url ?? '/');
    } catch (error) {
      rejectUpgrade(socket, 400, messageOf(error));
      return;
    }
    const ws = await upgradeToWebSocket(req, socket, head, protocol.name);
    if (ws === undefined) return;
    await serveWebSocketPortForward(ws, { protocol, ports, handler: handler.onPortForward, logger });
    return;
  }

  const protocol = negotiateChannelProtocol(offered, EXEC_CHANNEL_PROTOCOLS);
  if (protocol === undefined) return refuse(EXEC_CHANNEL_PROTOCOLS);
  const options = execOptionsOrReject(req, socket, handler);
  if (options === undefined) return;
  const ws: WebSocket | undefined = await upgradeToWebSocket(req, socket, head, protocol.name);
  if (ws === undefined) return;
  await runAttach(handler, serveWebSocketExec(ws, protocol, options, logger), options, logger);
}

async function runAttach(
  handler: AttachUpgrade,
  session: AttachSession,
  options: ExecOptions,
  logger: Logger,
): Promise<void> {
  let result: SessionOutcome;
  try {
    result = await handler.onAttach(session, options);
  } catch (error) {
    // The kubelet's wording for a runtime failure, with the cause's message.
    const what =
      handler.kind === 'exec' ? 'error executing command in container' : 'error attaching to container';
    logger.info({ err: error, code: findVicError(error)?.code }, `${handler.kind} failed`);
    result = { error: `${what}: ${messageOf(error)}` };
  }
  await session.finish(result);
}

/** A request URL without its query: what a log may show of an exec or attach request. */
export function pathOnly(url: string | undefined): string {
  return (url ?? '/').split('?', 1)[0] ?? '/';
}
