import type { Live } from '../stream';
import './analytics-view.css';
import { liveData } from './charts-live-data';
import { PerMinuteChart, type MinutePoint } from './charts-per-minute';
import { TopPagesChart } from './charts-top-pages';

/** What the view reads of analytics' `GET /stats?minutes=60` (apps/analytics, StatsService.snapshot). */
interface Stats {
  window: { minutes: number; until: string };
  counters: { pageViews: number; clicks: number; perMinute: MinutePoint[] };
  uniqueVisitors: { today: number; allTime: number };
  topPages: Array<{ url: string; views: number }>;
  sessions: { total: number; active: number };
  activeVisitors: number;
}

function Stat({ name, label, value, detail }: { name: string; label: string; value: number; detail?: string }) {
  return (
    <div className="stat" data-stat={name} data-value={value}>
      <span className="stat-value">{value.toLocaleString()}</span>
      <span className="stat-label">{label}</span>
      {detail ? <small>{detail}</small> : null}
    </div>
  );
}

/** The clickstream, live: counters, page views and clicks per minute over the last hour, the top pages. */
export function AnalyticsView({ live }: { live: Live }) {
  const { data, note } = liveData<Stats>(live.stats, 'analytics');
  if (!data) return note;
  return (
    <div className="analytics">
      {note}
      <div className="stats" aria-label={`The last ${data.window.minutes} minutes`} role="group">
        <Stat
          name="page-views"
          label="page views"
          value={data.counters.pageViews}
          detail={`last ${data.window.minutes} min`}
        />
        <Stat name="clicks" label="clicks" value={data.counters.clicks} detail={`last ${data.window.minutes} min`} />
        <Stat
          name="unique-visitors"
          label="unique visitors today"
          value={data.uniqueVisitors.today}
          detail={`${data.uniqueVisitors.allTime.toLocaleString()} all time`}
        />
        <Stat name="active-visitors" label="active visitors" value={data.activeVisitors} detail="last 5 min" />
        <Stat name="sessions" label="sessions" value={data.sessions.total} detail={`${data.sessions.active} active`} />
      </div>
      <h3>Per minute</h3>
      <PerMinuteChart points={data.counters.perMinute} />
      <h3>Top pages</h3>
      <TopPagesChart pages={data.topPages} />
    </div>
  );
}
