import Handlebars from 'handlebars';

/** An email to render: which template, and its data. */
export interface EmailRequest {
  template: 'order-placed' | 'order-confirmed' | 'order-cancelled' | 'daily-digest';
  to: string;
  data: Record<string, unknown>;
}

interface Template {
  subject: string;
  text: string;
  html: string;
}

// Each template has a subject, a text part and an HTML part (Handlebars escapes what it inserts into HTML).
const TEMPLATES: Record<EmailRequest['template'], Template> = {
  'order-placed': {
    subject: 'We received your order {{short orderId}}',
    text: 'Thanks for your order {{orderId}}.\n\n{{#each items}}- {{quantity}} × {{sku}}\n{{/each}}\nWe will write again when it is confirmed.\n',
    html: '<p>Thanks for your order <b>{{orderId}}</b>.</p><ul>{{#each items}}<li>{{quantity}} × {{sku}}</li>{{/each}}</ul><p>We will write again when it is confirmed.</p>',
  },
  'order-confirmed': {
    subject: 'Your order {{short orderId}} is confirmed',
    text: 'Your order {{orderId}} is confirmed.\n\n{{#each items}}- {{quantity}} × {{sku}} at {{money unitPrice}}\n{{/each}}\nTotal: {{money total}}\n',
    html: '<p>Your order <b>{{orderId}}</b> is confirmed.</p><ul>{{#each items}}<li>{{quantity}} × {{sku}} at {{money unitPrice}}</li>{{/each}}</ul><p>Total: <b>{{money total}}</b></p>',
  },
  'order-cancelled': {
    subject: 'Your order {{short orderId}} was cancelled',
    text: 'We are sorry: your order {{orderId}} was cancelled ({{reason}}). You have not been charged.\n',
    html: '<p>We are sorry: your order <b>{{orderId}}</b> was cancelled ({{reason}}). You have not been charged.</p>',
  },
  'daily-digest': {
    subject: 'Warren daily digest: {{total}} emails sent',
    text: 'Emails sent in the last 24 hours: {{total}}\n{{#each byTemplate}}- {{@key}}: {{this}}\n{{/each}}',
    html: '<p>Emails sent in the last 24 hours: <b>{{total}}</b></p><ul>{{#each byTemplate}}<li>{{@key}}: {{this}}</li>{{/each}}</ul>',
  },
};

const hbs = Handlebars.create();
hbs.registerHelper('short', (id: unknown) => String(id).slice(0, 8));
hbs.registerHelper('money', (cents: unknown) => `$${(Number(cents) / 100).toFixed(2)}`);
const compiled = Object.fromEntries(
  Object.entries(TEMPLATES).map(([name, t]) => [
    name,
    {
      subject: hbs.compile(t.subject, { noEscape: true }),
      text: hbs.compile(t.text, { noEscape: true }),
      html: hbs.compile(t.html),
    },
  ]),
) as Record<
  EmailRequest['template'],
  { subject: HandlebarsTemplateDelegate; text: HandlebarsTemplateDelegate; html: HandlebarsTemplateDelegate }
>;

export function render(req: EmailRequest): Template {
  const t = compiled[req.template];
  if (!t) throw new Error(`no email template '${req.template}'`);
  return { subject: t.subject(req.data), text: t.text(req.data), html: t.html(req.data) };
}
