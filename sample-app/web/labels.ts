/**
 * The product's words for what an export holds: category and field names are code (`csat_surveys`,
 * `passwordHash`); people read these labels on the page and in the emails.
 */

const CATEGORY_LABELS: Record<string, string> = {
  team: 'Team profile',
  members: 'Team members',
  customers: 'Customers',
  tickets: 'Tickets',
  messages: 'Conversations',
  articles: 'Knowledge base',
  csat_surveys: 'CSAT responses',
  settings: 'Settings',
  webhooks: 'Webhooks',
  api_keys: 'API keys',
  invitations: 'Invitations',
  billing: 'Invoices',
};

const FIELD_LABELS: Record<string, string> = {
  passwordHash: 'passwords',
  mfaSecret: 'MFA secrets',
  secret: 'signing secrets',
  token: 'invitation links',
  lastSignInIp: 'sign-in IP addresses (last part hidden)',
  key: 'API key values (last 4 characters kept)',
  cardNumber: 'card numbers (last 4 digits kept)',
};

/** "csat_surveys" → "CSAT responses"; an unknown name → its words ("audit_log" → "Audit log"). */
export function categoryLabel(name: string): string {
  return CATEGORY_LABELS[name] ?? sentenceCase(name.replace(/[_-]+/g, ' '));
}

/** "passwordHash" → "passwords"; an unknown name → its words ("lastLoginAt" → "last login at"). */
export function fieldLabel(key: string): string {
  return FIELD_LABELS[key] ?? key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase();
}

function sentenceCase(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
