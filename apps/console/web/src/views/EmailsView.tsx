import type { Live } from '../stream';
import { liveData } from './charts-live-data';
import './charts-tables.css';
import './emails-view.css';

/** The fields read from Mailpit's `GET /api/v1/messages` (its MessagesSummary), which smtp-capture serves too. */
interface Address {
  Name: string;
  Address: string;
}
interface MessageSummary {
  ID: string;
  From: Address | null;
  To: Address[];
  Subject: string;
  Created: string;
  Snippet?: string;
}
interface MessagesSummary {
  total: number;
  messages_count?: number;
  messages: MessageSummary[];
}

const address = (a: Address | null) => (!a ? '—' : a.Name ? `${a.Name} <${a.Address}>` : a.Address);

/** The emails the platform sent, as the mail capture holds them: newest first, the latest 50. */
export function EmailsView({ live }: { live: Live }) {
  const { data, note } = liveData<MessagesSummary>(live.emails, 'the mail capture');
  if (!data) return note;
  const messages = [...data.messages].sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created));
  return (
    <div className="emails">
      {note}
      <p data-email-count={data.total}>
        {data.total} email{data.total === 1 ? '' : 's'} captured
        {data.total > messages.length ? `; the newest ${messages.length} shown` : ''}.
      </p>
      {messages.length ? (
        <div className="overflow-auto">
          <table className="striped stack-on-phone">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">From</th>
                <th scope="col">To</th>
                <th scope="col">Subject</th>
              </tr>
            </thead>
            <tbody>
              {messages.map((m) => (
                <tr key={m.ID} data-email-id={m.ID}>
                  <td data-label="When">
                    <time dateTime={m.Created} title={new Date(m.Created).toLocaleString()}>
                      {new Date(m.Created).toLocaleTimeString()}
                    </time>
                  </td>
                  <td data-label="From">{address(m.From)}</td>
                  <td data-label="To">{m.To.map(address).join(', ') || '—'}</td>
                  <td data-label="Subject">
                    {m.Subject || '(no subject)'}
                    {m.Snippet ? <small className="email-snippet">{m.Snippet}</small> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p>No email yet: place an order and its confirmation shows up here.</p>
      )}
    </div>
  );
}
