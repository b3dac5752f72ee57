import * as P from '@warren/amqp-protocol';
import {
  decodeContentHeader,
  decodeMethod,
  FieldTable,
  FRAME_BODY,
  FRAME_HEADER,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
  FrameParser,
  FrameWriter,
  Method,
  PROTOCOL_HEADER,
  ProtocolError,
  ReplyCode,
  tableToPlain,
} from '@warren/amqp-protocol';
import type { Socket } from 'node:net';
import { AmqpError, connectionError, fitShortstr, replyText } from '../errors';
import type { Message } from '../message';
import type { VirtualHost } from '../vhost/vhost';
import type { AccessControl } from '../access/access-control';
import type { Metrics } from '../metrics';
import { MECHANISMS, parseCredentials } from './auth';
import { Channel } from './channel';
import type { DirectReplyRegistry } from './direct-reply-to';
import { serverProperties } from './server-properties';
import { flushPendingLogs } from '../storage/segment-log';
import { LongTimeout } from '../util/long-timeout';

/** What a connection needs from the broker that accepted it. */
export interface ConnectionHost {
  readonly settings: {
    frameMax: number;
    channelMax: number;
    heartbeat: number;
    maxMessageSize: number;
    /** Milliseconds from accept to connection.open before the socket is dropped (RabbitMQ's handshake_timeout). */
    handshakeTimeout: number;
    /** Bytes waiting to be written past which the connection is not read until they drain. */
    maxOutgoingBuffer: number;
  };
  readonly access: AccessControl;
  readonly metrics: Metrics;
  readonly replyTo: DirectReplyRegistry;
  /** Why publishers are blocked (a resource alarm), or undefined. */
  readonly blocked: string | undefined;
  vhost(name: string): VirtualHost | undefined;
  /** The connection reached connection.open-ok (or closed before): it no longer counts as a handshake. */
  handshakeDone(connection: Connection): void;
  connectionClosed(connection: Connection): void;
  log(message: string): void;
}

/** Codes that close the whole connection; the others close only the channel (AMQP 0-9-1 §1.4). */
const HARD_ERRORS = new Set([320, 402, 501, 502, 503, 504, 505, 506, 530, 540, 541]);

/** How long the server waits for connection.close-ok before dropping the socket. */
const CLOSE_TIMEOUT_MS = 1000;

/**
 * Bytes one connection may feed the broker per event-loop turn. libuv reads up to 32 × 64 KiB from a socket per
 * readiness event; a publisher flooding at that rate would make every turn long and starve the acks and
 * deliveries of other connections. Past the budget the socket is paused until the next turn.
 */
const READ_BUDGET = 256 * 1024;
/**
 * The budget of a connection that has just published into a queue with consumers and a backlog: the flow
 * control that keeps consumers served while a publisher outruns them (RabbitMQ's credit flow plays this part).
 */
const THROTTLED_READ_BUDGET = 16 * 1024;

/**
 * Connections with frames waiting to be written. They are all written at the end of every read, so a delivery
 * caused by one connection's publish leaves in the same turn; the check-phase fallback covers writes caused by
 * timers. The same fallback marks the end of an event-loop turn for the read budget.
 */
const dirty: Connection[] = [];
let turn = 0;
let turnEndScheduled = false;

function flushDirty(): void {
  for (let i = 0; i < dirty.length; i++) dirty[i].flushNow();
  dirty.length = 0;
}

function scheduleTurnEnd(): void {
  if (turnEndScheduled) return;
  turnEndScheduled = true;
  setImmediate(() => {
    turnEndScheduled = false;
    turn++;
    flushDirty();
  });
}

type State = 'protocol-header' | 'start-ok' | 'secure-ok' | 'tune-ok' | 'open' | 'running' | 'closing' | 'closed';

/**
 * One client connection: the handshake, frame dispatch to channels, heartbeats, and batched writes.
 *
 * Everything a read produces (deliveries, confirms, replies) is appended to one FrameWriter and written with a
 * single socket.write once the event loop turn ends, so a burst of small messages costs one syscall.
 */
export class Connection {
  state: State = 'protocol-header';
  user = '';
  /** The user is tagged impersonator: it may publish with another user's user-id (RabbitMQ's rule). */
  impersonator = false;
  vhost!: VirtualHost;
  /** Set while the socket's buffer is above its high-water mark; deliveries pause until it drains. */
  congested = false;
  capabilities = { consumerCancelNotify: false, authenticationFailureClose: false, connectionBlocked: false };
  clientProperties: FieldTable = new Map();

  private readonly parser: FrameParser;
  private readonly writer = new FrameWriter(64 * 1024);
  private readonly channels = new Map<number, Channel>();
  /** Channels closed by the server that wait for the client's channel.close-ok; their frames are dropped. */
  private readonly closingChannels = new Set<number>();
  private frameMax: number;
  private channelMax: number;
  private heartbeat = 0;
  private headerBuffer = Buffer.alloc(0);
  private flushQueued = false;
  private bytesThisTurn = 0;
  private lastTurn = -1;
  private yielding = false;
  /** Set when a publish in this turn landed in a backlogged queue that has consumers (see THROTTLED_READ_BUDGET). */
  throttled = false;
  private confirmChannels: Channel[] = [];
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private handshakeTimer: LongTimeout | undefined;
  /**
   * Set while more than maxOutgoingBuffer bytes wait to be written: the peer is not reading what it asks for
   * (say, basic.get after basic.get). The connection is not read, and the frames already read wait in the
   * parser, until the socket drains; deliveries wait too (congested). Memory per connection stays bounded.
   */
  private backedUp = false;
  private readSinceTick = true;
  /** This connection has published: it is one of those a resource alarm blocks. */
  private publisher = false;
  private blockedNow = false;
  private wroteSinceTick = true;
  private missedBeats = 0;

  constructor(
    readonly socket: Socket,
    readonly broker: ConnectionHost,
  ) {
    this.frameMax = broker.settings.frameMax;
    this.channelMax = broker.settings.channelMax;
    this.parser = new FrameParser(this.frameMax);
    socket.setNoDelay(true);
    this.handshakeTimer = new LongTimeout(() => this.handshakeTimedOut(), broker.settings.handshakeTimeout);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.teardown());
  }

  // ---- reading ----

  private onData(chunk: Buffer): void {
    this.readSinceTick = true;
    scheduleTurnEnd();
    if (this.state === 'closed') return;
    if (this.lastTurn !== turn) {
      this.lastTurn = turn;
      this.bytesThisTurn = 0;
      this.throttled = false;
    }
    this.bytesThisTurn += chunk.length;
    if (this.state === 'protocol-header') {
      chunk = this.readProtocolHeader(chunk);
      if (chunk.length === 0) return;
    }
    this.parse(() => this.parser.push(chunk, this.onFrame));
    if (this.bytesThisTurn >= (this.throttled ? THROTTLED_READ_BUDGET : READ_BUDGET)) this.yieldTurn();
  }

  /** Runs the parser (on new input or on what it held back), then sends what the frames produced. */
  private parse(run: () => void): void {
    try {
      run();
    } catch (error) {
      this.fail(error);
    }
    for (const channel of this.confirmChannels) if (!channel.closing) channel.flushConfirms();
    this.confirmChannels.length = 0;
    flushDirty();
  }

  /** Reading stops for a turn (yielding), a resource alarm (blockedNow) or a peer that does not read (backedUp). */
  private resumeReading(): void {
    if (!this.yielding && !this.blockedNow && !this.backedUp && this.state !== 'closed') this.socket.resume();
  }

  get channelCount(): number {
    return this.channels.size;
  }

  readonly connectedAt = Date.now();

  /** Who and what this connection is, as the management API lists it (RabbitMQ's field names). */
  info() {
    const s = this.socket;
    const name = `${s.remoteAddress}:${s.remotePort} -> ${s.localAddress}:${s.localPort}`;
    return {
      name,
      user: this.user,
      vhost: this.vhost?.name,
      state: this.state === 'running' ? 'running' : this.state === 'closing' ? 'closing' : 'starting',
      protocol: 'AMQP 0-9-1',
      ssl: 'encrypted' in s,
      peer_host: s.remoteAddress,
      peer_port: s.remotePort,
      host: s.localAddress,
      port: s.localPort,
      channels: this.channels.size,
      channel_max: this.channelMax,
      frame_max: this.frameMax,
      timeout: this.heartbeat,
      connected_at: this.connectedAt,
      client_properties: tableToPlain(this.clientProperties),
      node: 'warren@localhost',
      type: 'network',
    };
  }

  /** The open channels, for the management API. */
  channelList(): Channel[] {
    return [...this.channels.values()];
  }

  /** Adds this connection's unacknowledged deliveries to `counts`, per queue (management API). */
  countUnacked(counts: Map<object, number>): void {
    for (const channel of this.channels.values()) channel.countUnacked(counts);
  }

  /** Bytes this connection holds in memory for its peer: frames not yet written, and input parsed later. */
  get bufferedBytes(): number {
    return this.writer.length + this.socket.writableLength + this.parser.heldBytes;
  }

  /** Stops reading until the next event-loop turn, so other connections get their share (READ_BUDGET). */
  private yieldTurn(): void {
    if (this.yielding || this.blockedNow || this.state === 'closed') return;
    this.yielding = true;
    this.socket.pause();
    setImmediate(() => {
      this.yielding = false;
      this.resumeReading();
    });
  }

  /** After each frame: past maxOutgoingBuffer, write what is pending and stop reading until the socket drains. */
  private checkOutgoing(): void {
    if (this.writer.length + this.socket.writableLength <= this.broker.settings.maxOutgoingBuffer) return;
    this.flushNow();
    // the kernel may have taken it all; only a write that left bytes queued is sure to be followed by 'drain'
    if (!this.congested || this.state === 'closed') return;
    this.backedUp = true;
    this.parser.pause();
    this.socket.pause();
  }

  /** The 8-byte protocol header. Anything but AMQP 0-9-1 gets our header back and the socket closed. */
  private readProtocolHeader(chunk: Buffer): Buffer {
    this.headerBuffer = Buffer.concat([this.headerBuffer, chunk]);
    if (this.headerBuffer.length < 8) {
      if (!PROTOCOL_HEADER.subarray(0, this.headerBuffer.length).equals(this.headerBuffer)) this.rejectProtocol();
      return Buffer.alloc(0);
    }
    if (!this.headerBuffer.subarray(0, 8).equals(PROTOCOL_HEADER)) {
      this.rejectProtocol();
      return Buffer.alloc(0);
    }
    const rest = this.headerBuffer.subarray(8);
    this.headerBuffer = Buffer.alloc(0);
    this.state = 'start-ok';
    this.sendMethod(0, P.CONNECTION_START, {
      versionMajor: 0,
      versionMinor: 9,
      serverProperties: serverProperties(),
      mechanisms: Buffer.from(MECHANISMS.join(' ')),
      locales: Buffer.from('en_US'),
    });
    this.scheduleFlush();
    return rest;
  }

  private rejectProtocol(): void {
    this.state = 'closed';
    this.socket.end(PROTOCOL_HEADER);
  }

  private readonly onFrame = (type: number, channelId: number, payload: Buffer): void => {
    if (this.state === 'closed') return;
    try {
      if (type === FRAME_HEARTBEAT) {
        if (channelId !== 0)
          throw connectionError(ReplyCode.UNEXPECTED_FRAME, 'heartbeat frame on a non-zero channel').at(0, 0);
        return;
      }
      if (channelId === 0) {
        if (type !== FRAME_METHOD)
          throw connectionError(
            ReplyCode.UNEXPECTED_FRAME,
            `expected method frame on channel 0, got frame type ${type}`,
          ).at(0, 0);
        const method = this.decode(payload);
        if (method) this.onConnectionMethod(method);
        return;
      }
      if (this.state === 'closing') return;
      if (this.state !== 'running')
        throw connectionError(ReplyCode.CHANNEL_ERROR, `channel ${channelId} used before connection.open`);
      if (this.closingChannels.has(channelId)) {
        if (type === FRAME_METHOD) {
          const method = this.decode(payload);
          if (method?.id === P.CHANNEL_CLOSE_OK) this.closingChannels.delete(channelId);
          else if (method?.id === P.CHANNEL_CLOSE) this.sendMethod(channelId, P.CHANNEL_CLOSE_OK, {});
        }
        return;
      }
      const channel = this.channels.get(channelId);
      if (type === FRAME_METHOD) {
        const method = this.decode(payload);
        if (method) this.onChannelMethod(channelId, channel, method);
      } else if (!channel) throw connectionError(ReplyCode.CHANNEL_ERROR, `expected 'channel.open'`);
      else if (type === FRAME_HEADER) this.onHeader(channel, payload);
      else if (type === FRAME_BODY) this.onBody(channel, payload);
      else throw connectionError(ReplyCode.FRAME_ERROR, `unknown frame type ${type}`).at(0, 0);
    } catch (error) {
      this.onError(error, channelId, payload, type);
    }
    this.checkOutgoing();
  };

  /**
   * Decodes a method frame. Arguments cut short are a 501 naming the method (as RabbitMQ reports them); an
   * unknown class, method or field type makes RabbitMQ's reader drop the connection without a word, and so do we.
   * Input the codec refuses with a reason of its own (a malformed UTF-8 name, tables nested too deep) is a 501
   * with that reason, attributed to no method (as RabbitMQ reports malformed UTF-8).
   */
  private decode(payload: Buffer): Method | undefined {
    try {
      return decodeMethod(payload);
    } catch (error) {
      if (!(error instanceof ProtocolError) || payload.length < 4) throw error;
      if (error.code === ReplyCode.FRAME_ERROR) throw connectionError(ReplyCode.FRAME_ERROR, error.message).at(0, 0);
      if (error.code === ReplyCode.COMMAND_INVALID || /unknown field type/.test(error.message)) {
        this.broker.log(`dropping connection from ${this.socket.remoteAddress}: ${error.message}`);
        this.state = 'closed';
        this.socket.destroy();
        return undefined;
      }
      throw connectionError(ReplyCode.FRAME_ERROR, `cannot decode <<${[...payload.subarray(4)].join(',')}>>`).at(
        payload.readUInt16BE(0),
        payload.readUInt16BE(2),
      );
    }
  }

  private onHeader(channel: Channel, payload: Buffer): void {
    if (!channel.pending || channel.pending.header)
      throw connectionError(ReplyCode.UNEXPECTED_FRAME, `expected method frame, got non method frame instead`).at(0, 0);
    channel.onHeader(decodeContentHeader(payload), this.broker.settings.maxMessageSize);
  }

  private onBody(channel: Channel, payload: Buffer): void {
    if (!channel.pending?.header)
      throw connectionError(ReplyCode.UNEXPECTED_FRAME, `expected method frame, got non method frame instead`).at(0, 0);
    channel.onBody(payload);
  }

  private onChannelMethod(id: number, channel: Channel | undefined, method: Method): void {
    if (method.id === P.CHANNEL_OPEN) {
      if (channel) throw connectionError(ReplyCode.CHANNEL_ERROR, `second 'channel.open' seen`);
      if (id > this.channelMax)
        throw connectionError(
          ReplyCode.NOT_ALLOWED,
          `number of channels opened (${id}) has reached the negotiated channel_max (${this.channelMax})`,
        ).at(0, 0);
      this.channels.set(id, new Channel(id, this));
      this.sendMethod(id, P.CHANNEL_OPEN_OK, { reserved1: Buffer.alloc(0) });
      return;
    }
    if (!channel) throw connectionError(ReplyCode.CHANNEL_ERROR, `expected 'channel.open'`);
    if (channel.pending)
      throw connectionError(
        ReplyCode.UNEXPECTED_FRAME,
        channel.pending.header
          ? `expected content body, got non content body frame instead`
          : `expected content header for class 60, got non content header frame instead`,
      ).at(P.ClassId.basic, 40);
    if (method.id === P.CHANNEL_CLOSE) {
      this.channels.delete(id);
      channel.teardown();
      this.sendMethod(id, P.CHANNEL_CLOSE_OK, {});
      return;
    }
    if (method.id === P.CHANNEL_CLOSE_OK) return;
    if (method.id >>> 16 === P.ClassId.connection)
      throw connectionError(ReplyCode.COMMAND_INVALID, `connection method ${P.methodName(method.id)} on channel ${id}`);
    channel.handle(method);
  }

  // ---- connection class ----

  private onConnectionMethod(method: Method): void {
    switch (method.id) {
      case P.CONNECTION_START_OK:
        return this.onStartOk(method.args);
      case P.CONNECTION_TUNE_OK:
        return this.onTuneOk(method.args);
      case P.CONNECTION_OPEN:
        return this.onOpen(method.args.virtualHost);
      case P.CONNECTION_CLOSE:
        this.sendMethod(0, P.CONNECTION_CLOSE_OK, {});
        this.flushNow();
        this.state = 'closed';
        this.socket.end();
        return;
      case P.CONNECTION_CLOSE_OK:
        this.state = 'closed';
        this.socket.end();
        return;
      case P.CONNECTION_BLOCKED:
      case P.CONNECTION_UNBLOCKED:
        return;
      case P.CONNECTION_UPDATE_SECRET:
        return this.sendMethod(0, P.CONNECTION_UPDATE_SECRET_OK, {});
      default:
        if (this.state === 'closing') return;
        throw connectionError(ReplyCode.CHANNEL_ERROR, `unexpected method in connection state ${this.state}`);
    }
  }

  private expect(state: State, method: string): void {
    if (this.state !== state)
      throw connectionError(ReplyCode.COMMAND_INVALID, `unexpected ${method} in state ${this.state}`);
  }

  private onStartOk(args: P.ConnectionStartOkArgs): void {
    this.expect('start-ok', 'connection.start-ok');
    this.clientProperties = args.clientProperties;
    const caps = args.clientProperties.get('capabilities');
    if (caps?.type === 'F') {
      const has = (name: string) => caps.value.get(name)?.value === true;
      this.capabilities = {
        consumerCancelNotify: has('consumer_cancel_notify'),
        authenticationFailureClose: has('authentication_failure_close'),
        connectionBlocked: has('connection.blocked'),
      };
    }
    if (!MECHANISMS.includes(args.mechanism))
      throw connectionError(ReplyCode.COMMAND_INVALID, `unknown authentication mechanism '${args.mechanism}'`);
    const credentials = parseCredentials(args.mechanism, args.response);
    const user = credentials
      ? this.broker.access.authenticate(credentials.username, credentials.password, this.socket.remoteAddress)
      : 'no credentials';
    if (typeof user === 'string') {
      this.broker.log(
        `login refused for user '${credentials?.username ?? '?'}' from ${this.socket.remoteAddress}: ${user}`,
      );
      if (this.capabilities.authenticationFailureClose) {
        const text = `Login was refused using authentication mechanism ${args.mechanism}. For details see the broker logfile.`;
        this.close(ReplyCode.ACCESS_REFUSED, replyText(ReplyCode.ACCESS_REFUSED, text));
        return;
      }
      this.state = 'closed';
      this.socket.destroy();
      return;
    }
    this.user = user.name;
    this.impersonator = user.tags.includes('impersonator');
    this.state = 'tune-ok';
    const s = this.broker.settings;
    this.sendMethod(0, P.CONNECTION_TUNE, { channelMax: s.channelMax, frameMax: s.frameMax, heartbeat: s.heartbeat });
  }

  private onTuneOk(args: P.ConnectionTuneOkArgs): void {
    this.expect('tune-ok', 'connection.tune-ok');
    const s = this.broker.settings;
    const frameMax = args.frameMax === 0 ? s.frameMax : args.frameMax;
    if (frameMax > s.frameMax)
      throw connectionError(ReplyCode.NOT_ALLOWED, `frame_max=${frameMax} > ${s.frameMax} max size`);
    if (frameMax < 4096) throw connectionError(ReplyCode.NOT_ALLOWED, `frame_max=${frameMax} < 4096 min size`);
    const channelMax = args.channelMax === 0 ? s.channelMax : args.channelMax;
    if (channelMax > s.channelMax)
      throw connectionError(ReplyCode.NOT_ALLOWED, `channel_max=${channelMax} > ${s.channelMax} max size`);
    this.frameMax = frameMax;
    this.parser.maxFrameSize = frameMax;
    this.channelMax = channelMax;
    this.heartbeat = args.heartbeat;
    this.state = 'open';
    this.startHeartbeats();
  }

  private onOpen(vhostName: string): void {
    this.expect('open', 'connection.open');
    const vhost = this.broker.vhost(vhostName);
    if (!vhost) throw connectionError(ReplyCode.NOT_ALLOWED, `vhost ${vhostName} not found`);
    if (!this.broker.access.mayAccessVhost(this.user, vhostName))
      throw connectionError(ReplyCode.NOT_ALLOWED, `access to vhost '${vhostName}' refused for user '${this.user}'`);
    this.vhost = vhost;
    this.state = 'running';
    this.endHandshake();
    this.sendMethod(0, P.CONNECTION_OPEN_OK, { reserved1: '' });
  }

  private endHandshake(): void {
    if (!this.handshakeTimer) return;
    this.handshakeTimer.clear();
    this.handshakeTimer = undefined;
    this.broker.handshakeDone(this);
  }

  /** No connection.open within handshakeTimeout (idle, or trickling a byte at a time): dropped, as RabbitMQ does. */
  private handshakeTimedOut(): void {
    if (this.state === 'closed') return;
    this.broker.log(
      `handshake timeout (${this.broker.settings.handshakeTimeout} ms) from ${this.socket.remoteAddress}, closing`,
    );
    this.state = 'closed';
    this.socket.destroy();
  }

  // ---- errors ----

  private onError(error: unknown, channelId: number, payload: Buffer, frameType: number): void {
    if (error instanceof AmqpError && error.classId === undefined) {
      // Errors are reported against the method that caused them; a message's content counts as its basic.publish.
      if (frameType === FRAME_METHOD && payload.length >= 4) error.at(payload.readUInt16BE(0), payload.readUInt16BE(2));
      else if (frameType === FRAME_HEADER || frameType === FRAME_BODY) error.at(P.ClassId.basic, 40);
      else error.at(0, 0);
    }
    if (error instanceof AmqpError && !HARD_ERRORS.has(error.code) && channelId !== 0) {
      this.closeChannel(channelId, error);
      return;
    }
    this.fail(error);
  }

  /** Soft error: the channel is closed by the server; the client's channel.close-ok completes it. */
  private closeChannel(id: number, error: AmqpError): void {
    const channel = this.channels.get(id);
    if (!channel) return;
    this.channels.delete(id);
    channel.teardown();
    this.closingChannels.add(id);
    this.sendMethod(id, P.CHANNEL_CLOSE, {
      replyCode: error.code,
      replyText: fitShortstr(error.text),
      classId: error.classId ?? 0,
      methodId: error.methodId ?? 0,
    });
  }

  /** Hard error: connection.close with the code, then wait (briefly) for close-ok. */
  private fail(error: unknown): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    if (this.state === 'start-ok' || this.state === 'secure-ok' || this.state === 'tune-ok') {
      // RabbitMQ drops a connection whose handshake goes wrong without connection.close (bar refused logins).
      this.broker.log(`handshake failed from ${this.socket.remoteAddress}: ${(error as Error)?.message}`);
      this.state = 'closed';
      this.socket.destroy();
      return;
    }
    let code: number = ReplyCode.INTERNAL_ERROR;
    let text = replyText(ReplyCode.INTERNAL_ERROR, 'internal error');
    let classId = 0;
    let methodId = 0;
    if (error instanceof AmqpError) {
      ({ code, text } = error);
      classId = error.classId ?? 0;
      methodId = error.methodId ?? 0;
    } else if (error instanceof ProtocolError) {
      code = error.code;
      text = replyText(error.code, error.message);
    } else {
      this.broker.log(
        `internal error on connection from ${this.socket.remoteAddress}: ${(error as Error)?.stack ?? error}`,
      );
    }
    this.close(code, text, classId, methodId);
  }

  /** Server-initiated close (errors, shutdown with 320). */
  close(code: number, text: string, classId = 0, methodId = 0): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    if (this.state === 'protocol-header') {
      this.socket.destroy();
      return;
    }
    this.state = 'closing';
    this.tearDownChannels();
    this.sendMethod(0, P.CONNECTION_CLOSE, { replyCode: code, replyText: fitShortstr(text), classId, methodId });
    this.flushNow();
    this.closeTimer = setTimeout(() => this.socket.destroy(), CLOSE_TIMEOUT_MS);
    this.closeTimer.unref();
  }

  // ---- writing ----

  sendMethod(channel: number, methodId: number, args: object): void {
    this.writer.method(channel, methodId, args);
    this.scheduleFlush();
  }

  /** A content-bearing method (deliver, get-ok, return) with the message's header and body frames. */
  sendContent(channel: number, methodId: number, args: object, message: Message): void {
    const writer = this.writer;
    writer.method(channel, methodId, args);
    writer.headerRaw(channel, P.ClassId.basic, message.size, message.rawProperties);
    writer.body(channel, message.body, this.frameMax);
    if (writer.length > 1024 * 1024) this.flushNow();
    else this.scheduleFlush();
  }

  confirmsPending(channel: Channel): void {
    this.confirmChannels.push(channel);
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    dirty.push(this);
    scheduleTurnEnd();
  }

  /** Writes everything pending in one socket.write. */
  flushNow(): void {
    this.flushQueued = false;
    if (this.writer.length === 0 || this.socket.destroyed) return;
    flushPendingLogs(); // ack and delivery marks reach the disk before the frames that reveal them
    this.wroteSinceTick = true;
    if (!this.socket.write(this.writer.take())) this.congested = true;
  }

  private onDrain(): void {
    if (!this.congested) return;
    this.congested = false;
    if (this.backedUp) {
      this.backedUp = false;
      this.parse(() => this.parser.resume(this.onFrame));
      this.resumeReading();
    }
    // frames parsed just now may have filled the socket again
    if (this.congested) return;
    for (const channel of this.channels.values()) channel.resume();
  }

  // ---- resource alarms ----

  /** A basic.publish arrived. While an alarm is in force, the connection stops being read after this chunk. */
  notePublish(): void {
    this.publisher = true;
    const reason = this.broker.blocked;
    if (reason) this.block(reason);
  }

  blockIfPublishing(reason: string): void {
    if (this.publisher) this.block(reason);
  }

  /**
   * Stops reading from the socket, so TCP backpressure holds the publisher; clients that support it are told
   * why with connection.blocked. Consumers on other connections keep going, which is how the alarm clears.
   */
  private block(reason: string): void {
    if (this.blockedNow || this.state === 'closed') return;
    this.blockedNow = true;
    if (this.capabilities.connectionBlocked) this.sendMethod(0, P.CONNECTION_BLOCKED, { reason });
    this.socket.pause();
  }

  unblock(): void {
    if (!this.blockedNow) return;
    this.blockedNow = false;
    if (this.capabilities.connectionBlocked && this.state !== 'closed') this.sendMethod(0, P.CONNECTION_UNBLOCKED, {});
    this.resumeReading();
  }

  // ---- heartbeats ----

  /**
   * Heartbeats both ways: we send one whenever we wrote nothing for half the interval, and declare the peer
   * dead after two full intervals without a byte from it.
   */
  private startHeartbeats(): void {
    if (this.heartbeat === 0) return;
    const halfInterval = (this.heartbeat * 1000) / 2;
    this.heartbeatTimer = setInterval(() => {
      if (!this.wroteSinceTick) {
        this.writer.heartbeat();
        this.flushNow();
      }
      this.wroteSinceTick = false;
      // A connection blocked by a resource alarm or backed up is not being read: its silence is ours, not the peer's.
      if (this.readSinceTick || this.blockedNow || this.backedUp) this.missedBeats = 0;
      else if (++this.missedBeats >= 4) {
        this.broker.log(`missed heartbeats from ${this.socket.remoteAddress}, closing`);
        this.socket.destroy();
      }
      this.readSinceTick = false;
    }, halfInterval);
    this.heartbeatTimer.unref();
  }

  // ---- teardown ----

  private tearDownChannels(): void {
    for (const channel of this.channels.values()) channel.teardown();
    this.channels.clear();
  }

  private teardown(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.endHandshake();
    this.state = 'closed';
    this.tearDownChannels();
    this.vhost?.ownerClosed(this);
    this.broker.connectionClosed(this);
  }
}
