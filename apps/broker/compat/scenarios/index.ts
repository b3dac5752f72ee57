import type { Area } from '../harness';
import connection from './connection.scenarios';
import exchangeTypes from './exchange-types.scenarios';
import topic from './topic.scenarios';
import headersExchange from './headers-exchange.scenarios';
import defaultExchange from './default-exchange.scenarios';
import exchangeDeclare from './exchange-declare.scenarios';
import e2eBindings from './e2e-bindings.scenarios';
import alternateExchange from './alternate-exchange.scenarios';
import queueDeclare from './queue-declare.scenarios';
import queueArgsTtl from './queue-args-ttl.scenarios';
import queueArgsLength from './queue-args-length.scenarios';
import queueArgsEquivalence from './queue-args-equivalence.scenarios';
import deadLettering from './dead-lettering.scenarios';
import priority from './priority.scenarios';
import singleActiveConsumer from './single-active-consumer.scenarios';
import basicConsume from './basic-consume.scenarios';
import basicGet from './basic-get.scenarios';
import ackNackReject from './ack-nack-reject.scenarios';
import qos from './qos.scenarios';
import recover from './recover.scenarios';
import confirms from './confirms.scenarios';
import transactions from './transactions.scenarios';
import directReplyTo from './direct-reply-to.scenarios';
import channel from './channel.scenarios';
import errors from './errors.scenarios';
import messages from './messages.scenarios';
import hostileInput from './hostile-input.scenarios';
import permissions from './permissions.scenarios';
import delayedMessage from './delayed-message.scenarios';
import maxLengthRequeue from './max-length-requeue.scenarios';
import deadLetteringCc from './dead-lettering-cc.scenarios';
import quorumDeclare from './quorum-declare.scenarios';
import quorumDelivery from './quorum-delivery.scenarios';
import quorumLimits from './quorum-limits.scenarios';
import quorumDeadLetterStrategy from './quorum-dead-letter-strategy.scenarios';

export const areas: Area[] = [
  connection,
  exchangeTypes,
  topic,
  headersExchange,
  defaultExchange,
  exchangeDeclare,
  e2eBindings,
  alternateExchange,
  queueDeclare,
  queueArgsTtl,
  queueArgsLength,
  queueArgsEquivalence,
  deadLettering,
  priority,
  singleActiveConsumer,
  basicConsume,
  basicGet,
  ackNackReject,
  qos,
  recover,
  confirms,
  transactions,
  directReplyTo,
  channel,
  errors,
  messages,
  hostileInput,
  permissions,
  maxLengthRequeue,
  deadLetteringCc,
  delayedMessage,
  quorumDeclare,
  quorumDelivery,
  quorumLimits,
  quorumDeadLetterStrategy,
];
