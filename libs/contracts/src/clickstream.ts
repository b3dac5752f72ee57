import { defineMessage, type Payload } from '@warren/messaging';
import { z } from 'zod';

// Clickstream events, published by analytics' collector on `warren.events` with routing key
// `clickstream.<type>`, so a consumer can take only clicks, only page views, or both.

const base = {
  visitorId: z.string().min(1).max(128),
  sessionId: z.string().min(1).max(128).optional(),
  url: z.string().url().max(2048),
  /** When it happened on the client; the collector fills in the receive time when absent. */
  at: z.string().datetime(),
  referrer: z.string().max(2048).optional(),
};

export const PageView = defineMessage('clickstream.page_view', z.object({ type: z.literal('page_view'), ...base, title: z.string().max(512).optional() }));
export type PageView = Payload<typeof PageView>;

export const Click = defineMessage('clickstream.click', z.object({ type: z.literal('click'), ...base, element: z.string().max(256).optional() }));
export type Click = Payload<typeof Click>;
