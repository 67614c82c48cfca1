import type { MemberRole } from '../entities';

/** What makes each seeded team look like a real help desk: its people, products and problems. */
export interface TeamProfile {
  id: string;
  name: string;
  slug: string;
  domain: string;
  plan: string;
  timezone: string;
  createdAt: string;
  /** Share of the tickets this team gets. */
  share: number;
  members: { name: string; role: MemberRole; title: string }[];
  subjects: string[];
  /** Words that fill `{thing}` in subjects and bodies. */
  things: string[];
  customerCompanies: (string | null)[];
  customFields: (rng: import('./prng').Prng, i: number) => Record<string, unknown>;
  tags: string[];
  notes: string[];
  replies: string[];
  articles: { title: string; section: string; draft?: boolean }[];
  widgetColor: string;
  webhooks: { url: string; events: string[]; active: boolean }[];
  apiKeys: string[];
  invitations: { local: string; role: MemberRole }[];
  locales: string[];
}

export const TEAMS: TeamProfile[] = [
  {
    id: 'northwind-outfitters',
    name: 'Northwind Outfitters',
    slug: 'northwind',
    domain: 'northwind.example',
    plan: 'Business',
    timezone: 'America/Denver',
    createdAt: '2024-03-04T16:20:00.000Z',
    share: 0.6,
    members: [
      { name: 'Olivia Bennett', role: 'owner', title: 'Head of Customer Experience' },
      { name: 'Marcus Chen', role: 'admin', title: 'Support Operations Lead' },
      { name: 'Priya Raman', role: 'agent', title: 'Support Specialist' },
      { name: 'Diego Alvarez', role: 'agent', title: 'Support Specialist' },
      { name: 'Hannah Kowalski', role: 'agent', title: 'Returns & Warranty' },
      { name: 'Tom Okafor', role: 'agent', title: 'Support Specialist (weekends)' },
    ],
    subjects: [
      'Where is my order #{order}?',
      'Wrong size delivered: {thing}',
      'Return request for {thing}',
      'Discount code SPRING{n} not working at checkout',
      'Can I change my shipping address?',
      '{thing} arrived damaged',
      'Warranty claim: zipper broke on {thing}',
      'Do you ship to {country}?',
      'Refund for order #{order} not received yet',
      'Sizing question about the {thing}',
      'Tracking says delivered but nothing arrived',
      'When will the {thing} be back in stock?',
      'Need an invoice for order #{order}',
      'Gift card balance',
      'Please cancel order #{order}',
      'Exchange {thing} for a different colour',
    ],
    things: [
      'Alpine 2P tent', 'Ridgeline 45L pack', 'Summit down jacket', 'Trailrunner GTX shoes', 'Basecamp -5°C sleeping bag',
      'Titanium camp stove', 'Glacier trekking poles', 'Merino base layer', 'Canyon hydration vest', 'Aurora 400 headlamp',
    ],
    customerCompanies: [null, null, null, null, null, 'Peak Guides Co.', 'Trailhead Scouts', 'Bergfreunde Club', 'Cascade Rescue Team'],
    customFields: (rng, i) => ({
      loyaltyTier: rng.weighted([['none', 5], ['silver', 3], ['gold', 2], ['summit', 1]] as const),
      ordersPlaced: rng.int(1, 24),
      preferredCarrier: rng.pick(['UPS', 'FedEx', 'USPS', 'DHL']),
      newsletter: rng.chance(0.4),
      shoeSize: i % 3 === 0 ? rng.pick(['US 8', 'US 9', 'US 10', 'US 11', 'EU 42', 'EU 44']) : null,
    }),
    tags: ['shipping', 'returns', 'warranty', 'sizing', 'billing', 'wholesale', 'vip', 'stock', 'damaged'],
    notes: [
      'Checked Shopify: the parcel left the warehouse on time, carrier delay. Offering 10% code as goodwill.',
      'Refund issued in Stripe, ref re_{ref}. Should land in 5–10 business days.',
      'Photo shows a factory defect on the zipper, approving a warranty replacement.',
      'Customer is on the wholesale list: looping in Marcus for pricing.',
      'Known carrier issue in the region this week, see INC-{n}.',
      'Second contact about the same order: please handle with priority.',
    ],
    replies: [
      "Thanks for reaching out! I've looked into this and I'm happy to help.",
      "I'm sorry about the trouble. I've just sent you a prepaid return label by email.",
      'Good news: a replacement is on its way, and you will get a tracking link within the day.',
      'The carrier confirmed a delay on their side. Your parcel should arrive within 2 business days.',
      "I've applied a 10% discount to your next order as a thank-you for your patience.",
      'Could you send us a photo of the item and the order number, so we can start the warranty claim?',
    ],
    articles: [
      { title: 'How to return or exchange an item', section: 'Returns' },
      { title: 'Our lifetime warranty, explained', section: 'Warranty' },
      { title: 'Shipping times and carriers', section: 'Shipping' },
      { title: 'International shipping and customs', section: 'Shipping' },
      { title: 'Tent sizing guide', section: 'Product care' },
      { title: 'Caring for down jackets', section: 'Product care' },
      { title: 'Waterproofing your shoes', section: 'Product care' },
      { title: 'Using discount codes and gift cards', section: 'Orders' },
      { title: 'Changing or cancelling an order', section: 'Orders' },
      { title: 'Wholesale and group orders', section: 'Orders' },
      { title: 'Where is my refund?', section: 'Returns' },
      { title: 'Stove safety checklist', section: 'Product care' },
      { title: 'Winter 2026 collection FAQ', section: 'Orders', draft: true },
      { title: 'Repair service pilot (internal draft)', section: 'Warranty', draft: true },
    ],
    widgetColor: '#2f6f4f',
    webhooks: [
      { url: 'https://hooks.northwind.example/helpdesk/tickets', events: ['ticket.created', 'ticket.solved'], active: true },
      { url: 'https://hooks.slack.example/services/T024/B0NW/support-alerts', events: ['ticket.created'], active: true },
      { url: 'https://old-erp.northwind.example/webhook', events: ['ticket.updated'], active: false },
    ],
    apiKeys: ['Shopify order sync', 'Warehouse dashboard', 'Zapier'],
    invitations: [
      { local: 'jamie.fox', role: 'agent' },
      { local: 'seasonal.help', role: 'agent' },
    ],
    locales: ['en', 'en', 'en', 'es', 'de', 'fr'],
  },
  {
    id: 'lumen-analytics',
    name: 'Lumen Analytics',
    slug: 'lumen',
    domain: 'lumen.example',
    plan: 'Growth',
    timezone: 'Europe/Amsterdam',
    createdAt: '2024-09-18T08:05:00.000Z',
    share: 0.4,
    members: [
      { name: 'Sofia Lindqvist', role: 'owner', title: 'Co-founder, COO' },
      { name: 'Ravi Patel', role: 'admin', title: 'Support Manager' },
      { name: 'Emma Dubois', role: 'agent', title: 'Customer Success Engineer' },
      { name: 'Jonas Weber', role: 'agent', title: 'Customer Success Engineer' },
      { name: 'Aiko Tanaka', role: 'agent', title: 'Technical Support (APAC)' },
    ],
    subjects: [
      'Dashboard not loading for our workspace',
      'SSO login fails with a SAML error',
      'How do I export a report to CSV?',
      'Billing: charged twice this month',
      'API rate limit reached ({n} requests/min)',
      'Adding {n} seats to our plan',
      'Scheduled report emails are not arriving',
      'Data connector to {thing} keeps failing',
      'Feature request: dark mode for embedded charts',
      "Can't invite a new teammate",
      'Do you have a DPA for GDPR?',
      'Chart shows the wrong time zone',
      'Webhook deliveries are timing out',
      'Upgrading from Growth to Business',
      'Password reset email not received',
      'Query on {thing} is much slower since yesterday',
    ],
    things: ['PostgreSQL', 'Snowflake', 'BigQuery', 'Stripe', 'HubSpot', 'Google Sheets', 'Shopify', 'Salesforce', 'MySQL', 'Redshift'],
    customerCompanies: ['Acme Retail', 'Globex Logistics', 'Initech', 'Umbrella Health', 'Hooli', 'Vandelay Imports', 'Soylent Foods', 'Stark Mobility', 'Wayne Analytics', 'Tyrell Labs'],
    customFields: (rng) => ({
      plan: rng.weighted([['Starter', 3], ['Growth', 4], ['Business', 2], ['Enterprise', 1]] as const),
      seats: rng.int(2, 250),
      region: rng.pick(['EU', 'US', 'APAC']),
      accountManager: rng.pick(['Sofia Lindqvist', 'Ravi Patel', null]),
      ssoEnabled: rng.chance(0.3),
    }),
    tags: ['billing', 'sso', 'api', 'connectors', 'reports', 'bug', 'feature-request', 'onboarding', 'enterprise'],
    notes: [
      'Reproduced on staging. Filed ENG-{n}, workaround shared with the customer.',
      'Customer is in a renewal cycle: keep Sofia posted.',
      'Double charge confirmed in Stripe, refunded the duplicate (re_{ref}).',
      'Their IdP sends the email in a custom attribute: needs a mapping change on their side.',
      'Rate limit raised to 1200/min for 7 days while they backfill.',
      'Connector logs show expired OAuth credentials; asked them to reconnect.',
    ],
    replies: [
      'Thanks for the detailed report, that helps a lot.',
      "I've reproduced the issue and our engineers are on it. I'll update you as soon as there's a fix.",
      'You can export any report from the ••• menu → Download → CSV.',
      'This is fixed now: could you refresh the dashboard and let me know if it works on your side?',
      "I've added the seats; the prorated amount will appear on your next invoice.",
      'Our DPA is available under Settings → Legal. Let me know if your legal team needs a signed copy.',
    ],
    articles: [
      { title: 'Connecting your first data source', section: 'Getting started' },
      { title: 'Inviting teammates and roles', section: 'Getting started' },
      { title: 'Setting up SAML SSO', section: 'Security' },
      { title: 'API authentication and rate limits', section: 'Developers' },
      { title: 'Webhooks reference', section: 'Developers' },
      { title: 'Scheduling report emails', section: 'Reports' },
      { title: 'Exporting charts and reports', section: 'Reports' },
      { title: 'Time zones in charts', section: 'Reports' },
      { title: 'Plans, seats and invoices', section: 'Billing' },
      { title: 'GDPR, DPA and data residency', section: 'Security' },
      { title: 'Troubleshooting connectors', section: 'Developers' },
      { title: 'Embedding dashboards (beta)', section: 'Developers', draft: true },
    ],
    widgetColor: '#3b4cca',
    webhooks: [
      { url: 'https://api.lumen.example/internal/helpdesk-events', events: ['ticket.created', 'ticket.updated', 'csat.received'], active: true },
      { url: 'https://crm.lumen.example/hooks/support', events: ['ticket.solved'], active: true },
    ],
    apiKeys: ['Status page', 'CRM sync'],
    invitations: [
      { local: 'li.wei', role: 'admin' },
      { local: 'support-contractor', role: 'agent' },
    ],
    locales: ['en', 'en', 'nl', 'de', 'fr', 'ja'],
  },
];

export const FIRST_NAMES = [
  'Ava', 'Liam', 'Noah', 'Mia', 'Lucas', 'Zoe', 'Ethan', 'Chloe', 'Mateo', 'Isla', 'Arjun', 'Leila', 'Kenji', 'Nora', 'Omar',
  'Freya', 'Samuel', 'Lina', 'Jakub', 'Aisha', 'Felix', 'Grace', 'Hugo', 'Ines', 'Kofi', 'Maya', 'Nils', 'Rosa', 'Tariq', 'Yara',
];
export const LAST_NAMES = [
  'Nguyen', 'Smith', 'García', 'Müller', 'Rossi', 'Kim', 'Johansson', 'Novak', 'Haddad', 'Costa', 'Brown', 'Ivanova',
  'Sato', 'Mensah', 'Dubois', 'Kowalczyk', 'Andersen', 'Silva', 'Cohen', 'Murphy', 'Fischer', 'Hernández', 'Ali', 'Walsh',
];
export const COUNTRIES = ['Canada', 'Mexico', 'the UK', 'Germany', 'Japan', 'Australia', 'Norway', 'Chile'];

export const CUSTOMER_OPENERS = [
  'Hi there,\n\n{subject}. Could you help me with this?\n\nThanks,\n{first}',
  'Hello,\n\n{subject} — I tried a couple of things already but no luck. Any idea?\n\n{first}',
  'Hi team! Quick one: {subject_lc}. Thank you!',
  'Good morning,\n\nI am writing about the following: {subject_lc}. This is a bit urgent for us.\n\nBest regards,\n{first}',
];
export const CUSTOMER_FOLLOW_UPS = [
  'Thanks, that worked!',
  'Still not working on my side, unfortunately.',
  'Great, thank you for the quick answer.',
  'Any update on this?',
  'Perfect, you can close this ticket.',
  'I sent the photos you asked for.',
];
export const CSAT_COMMENTS = [
  'Super quick answer, thanks!',
  'Solved on the first reply. Great service.',
  'Took a while, but it got sorted in the end.',
  'Friendly and helpful.',
  'I had to explain the problem twice.',
  'Would have liked a phone call.',
  'Excellent, as always.',
];
