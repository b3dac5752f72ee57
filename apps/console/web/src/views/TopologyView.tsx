import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk.bundled.js';
import { useEffect, useMemo, useState } from 'react';
import type { Topology, TopologyQueue } from '../../../src/server/topology';

const depth = (q: TopologyQueue) => `ready ${q.ready} · unacked ${q.unacked}`;

// ELK is large (1.4 MB): loaded on its own, after the page has drawn, and once
const elkReady = import('elkjs/lib/elk.bundled.js').then(({ default: ELK }) => new ELK());
const SIZE = {
  exchange: { width: 200, height: 34 },
  queue: { width: 250, height: 40 },
  consumer: { width: 150, height: 30 },
};
/** A work queue's box: its own two lines, then a line per companion (retry levels, dead-letter queue). */
const ROW = 17;

interface Placed {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

interface Layout {
  nodes: Map<string, Placed>;
  edges: Array<{ id: string; points: Array<{ x: number; y: number }> }>;
  width: number;
  height: number;
}

/**
 * The shape of the graph only (which nodes and edges exist): the layout runs again when that changes, not when a
 * depth or a rate does, so the picture stays still while its numbers move.
 */
function shapeKey(t: Topology): string {
  return JSON.stringify([
    t.exchanges.map((e) => e.id),
    t.queues.map((q) => [q.id, q.group]),
    t.consumers.map((c) => c.id),
    t.edges.map((e) => e.id),
  ]);
}

/** The node a queue is drawn in: its group's box (a work queue with retry or dead-letter companions), else its own. */
function nodeOf(t: Topology): (id: string) => string {
  const box = new Map<string, string>();
  for (const g of t.groups) for (const name of g.queues) box.set(`queue:${name}`, `group:${g.id}`);
  return (id) => box.get(id) ?? id;
}

async function layout(t: Topology): Promise<Layout> {
  const inGroup = new Set(t.groups.flatMap((g) => g.queues));
  const node = nodeOf(t);
  const children: ElkNode[] = [
    ...t.exchanges.map((e) => ({ id: e.id, ...SIZE.exchange })),
    ...t.queues.filter((q) => !inGroup.has(q.name)).map((q) => ({ id: q.id, ...SIZE.queue })),
    ...t.groups.map((g) => ({
      id: `group:${g.id}`,
      width: SIZE.queue.width,
      height: SIZE.queue.height + (g.queues.length - 1) * ROW + 6,
    })),
    ...t.consumers.map((c) => ({ id: c.id, ...SIZE.consumer })),
  ];
  const edges: ElkExtendedEdge[] = t.edges.map((e) => ({ id: e.id, sources: [node(e.from)], targets: [node(e.to)] }));
  const elk = await elkReady;
  const graph: ElkNode = await elk.layout({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.layered.spacing.nodeNodeBetweenLayers': '70',
      'elk.spacing.nodeNode': '16',
    },
    children,
    edges,
  });
  const nodes = new Map<string, Placed>();
  for (const n of graph.children ?? [])
    nodes.set(n.id, { id: n.id, x: n.x ?? 0, y: n.y ?? 0, width: n.width ?? 0, height: n.height ?? 0 });
  const placedEdges = (graph.edges ?? []).map((e) => {
    const s = (e as ElkExtendedEdge).sections?.[0];
    return { id: e.id, points: s ? [s.startPoint, ...(s.bendPoints ?? []), s.endPoint] : [] };
  });
  return { nodes, edges: placedEdges, width: graph.width ?? 0, height: graph.height ?? 0 };
}

const rate = (r: number | undefined) => (r === undefined ? '' : `${r < 10 ? r.toFixed(1) : Math.round(r)}/s`);

/** Exchanges → bindings → queues → consumers, laid out by ELK; depths and rates update in place. */
export function TopologyView({ topology }: { topology: Topology }) {
  const key = useMemo(() => shapeKey(topology), [topology]);
  const [placed, setPlaced] = useState<Layout | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    let current = true;
    layout(topology).then(
      (l) => current && setPlaced(l),
      (err: Error) => current && setError(err.message),
    );
    return () => {
      current = false;
    };
    // laid out again only when the shape changes, not on every new depth or rate
  }, [key]);
  if (error) return <p className="error">Could not lay out the topology: {error}</p>;
  if (!placed) return <p aria-busy="true">Laying out the topology…</p>;
  const at = (id: string) => placed.nodes.get(id);
  const grouped = new Set(topology.groups.flatMap((g) => g.queues));
  const byName = new Map(topology.queues.map((q) => [q.name, q]));
  return (
    <div className="topology">
      <svg width={placed.width} height={placed.height} role="img" aria-label="Exchanges, queues and consumers">
        {placed.edges.map((e) => {
          const edge = topology.edges.find((x) => x.id === e.id);
          const mid = e.points[Math.floor(e.points.length / 2)];
          return (
            <g key={e.id}>
              <path d={e.points.map((p, i) => `${i ? 'L' : 'M'}${p.x},${p.y}`).join(' ')} markerEnd="url(#arrow)" />
              {edge?.rate !== undefined && mid ? (
                <text className="rate" x={mid.x + 3} y={mid.y - 3}>
                  {rate(edge.rate)}
                </text>
              ) : null}
            </g>
          );
        })}
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="10"
            refY="5"
            markerWidth="6"
            markerHeight="6"
            orient="auto-start-reverse"
          >
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#94a3b8" />
          </marker>
        </defs>
        {topology.exchanges.map((x) => {
          const p = at(x.id);
          return p ? (
            <g key={x.id} className="exchange" data-name={x.name}>
              <rect x={p.x} y={p.y} width={p.width} height={p.height} rx={4} />
              <text x={p.x + 8} y={p.y + 15}>
                {x.name}
              </text>
              <text x={p.x + 8} y={p.y + 28}>
                {x.type} · in {rate(x.publishRate)}
              </text>
            </g>
          ) : null;
        })}
        {topology.queues
          .filter((q) => !grouped.has(q.name))
          .map((q) => {
            const p = at(q.id);
            return p ? (
              <g
                key={q.id}
                className={`queue ${q.role}`}
                data-name={q.name}
                data-ready={q.ready}
                data-unacked={q.unacked}
              >
                <rect x={p.x} y={p.y} width={p.width} height={p.height} rx={4} />
                <text x={p.x + 8} y={p.y + 16}>
                  {q.name}
                </text>
                <text x={p.x + 8} y={p.y + 31}>
                  {depth(q)} · {q.consumers} consumer{q.consumers === 1 ? '' : 's'}
                </text>
              </g>
            ) : null;
          })}
        {topology.groups.map((g) => {
          const p = at(`group:${g.id}`);
          const queues = g.queues.map((n) => byName.get(n)).filter((q): q is TopologyQueue => Boolean(q));
          const [work, ...companions] = queues;
          return p && work ? (
            <g key={g.id} className="group" data-group={g.id}>
              <rect x={p.x} y={p.y} width={p.width} height={p.height} rx={6} />
              <g
                className={`queue ${work.role}`}
                data-name={work.name}
                data-ready={work.ready}
                data-unacked={work.unacked}
              >
                <text x={p.x + 8} y={p.y + 16}>
                  {work.name}
                </text>
                <text x={p.x + 8} y={p.y + 31}>
                  {depth(work)} · {work.consumers} consumer{work.consumers === 1 ? '' : 's'}
                </text>
              </g>
              {companions.map((q, i) => (
                <g
                  key={q.id}
                  className={`queue ${q.role}`}
                  data-name={q.name}
                  data-ready={q.ready}
                  data-unacked={q.unacked}
                >
                  <rect
                    x={p.x + 4}
                    y={p.y + SIZE.queue.height + i * ROW - 3}
                    width={p.width - 8}
                    height={ROW - 2}
                    rx={3}
                  />
                  <text x={p.x + 10} y={p.y + SIZE.queue.height + i * ROW + 9}>
                    {q.role === 'dead-letter' ? 'dead letters' : q.name.slice(work.name.length + 1)} · {depth(q)}
                  </text>
                </g>
              ))}
            </g>
          ) : null;
        })}
        {topology.consumers.map((c) => {
          const p = at(c.id);
          return p ? (
            <g key={c.id} className="consumer" data-holder={c.holder}>
              <rect x={p.x} y={p.y} width={p.width} height={p.height} rx={15} />
              <text x={p.x + 10} y={p.y + 19}>
                {c.holder.length > 18 ? `${c.holder.slice(0, 17)}…` : c.holder}
              </text>
            </g>
          ) : null;
        })}
      </svg>
    </div>
  );
}
