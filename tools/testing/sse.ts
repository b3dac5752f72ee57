/** Splits server-sent events off the front of `buffer`: the complete frames' (event, data) pairs, and what is left. */
export function takeSseEvents(buffer: string): { events: Array<{ type: string; data: string }>; rest: string } {
  const events: Array<{ type: string; data: string }> = [];
  let rest = buffer;
  let end: number;
  while ((end = rest.indexOf('\n\n')) >= 0) {
    const frame = rest.slice(0, end);
    rest = rest.slice(end + 2);
    const type = /^event: ?(.*)$/m.exec(frame)?.[1];
    const data = /^data: ?(.*)$/m.exec(frame)?.[1];
    if (type && data) events.push({ type, data });
  }
  return { events, rest };
}
