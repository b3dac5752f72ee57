/** Injection token of the options given to MessagingModule.forRoot / forRootAsync. */
export const MESSAGING_MODULE_OPTIONS = Symbol('MESSAGING_MODULE_OPTIONS');

/**
 * The transport id of MessagingServer. Handlers decorated without a transport bind to every server; pass this
 * as the transport argument (`@EventPattern('order.placed', MESSAGING_TRANSPORT)`) to bind to this one only
 * when an app runs several transports.
 */
export const MESSAGING_TRANSPORT = Symbol('warren-messaging');
