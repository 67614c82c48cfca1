import { Injectable } from '@nestjs/common';
import { CategoryExporter, Exporter, ExporterFilters, ExportSubject } from 'nestjs-data-export';

/** One invoice as the payment provider returns it. */
export interface Invoice {
  id: string;
  number: string;
  issuedAt: Date;
  amountCents: number;
  currency: string;
  status: 'paid' | 'open';
  cardNumber: string;
}

/**
 * The help desk's payment provider, as a client of its API would look (Stripe in a real
 * product). In the demo, each team has a year of monthly invoices, generated from its id.
 */
@Injectable()
export class DemoPaymentProvider {
  async *invoices(teamId: string, since?: Date): AsyncGenerator<Invoice> {
    const seed = [...teamId].reduce((n, c) => (n * 31 + c.charCodeAt(0)) % 9973, 7);
    for (let month = 0; month < 12; month++) {
      const issuedAt = new Date(Date.UTC(2026, month, 1));
      if (since && issuedAt < since) continue;
      yield {
        id: `in_${teamId.slice(0, 8)}_${month + 1}`,
        number: `HD-${2026}-${String(seed).padStart(4, '0')}-${String(month + 1).padStart(2, '0')}`,
        issuedAt,
        amountCents: 4900 + (seed % 5) * 1000,
        currency: 'usd',
        status: month < 11 ? 'paid' : 'open',
        cardNumber: `4242 4242 4242 ${String(1000 + (seed % 9000))}`,
      };
    }
  }
}

/**
 * Billing data held by the payment provider, not in the help desk's database: an exporter reads
 * it through the provider's client, and the archive treats it as any other category.
 */
@Exporter('billing', {
  description: 'Invoices from our payment provider',
  order: 11,
  redact: { cardNumber: { keep: 'last4' } },
  about: {
    purpose: 'To bill the team for its plan',
    recipients: ['Our payment provider (card processing)'],
    retention: '10 years after the invoice, as tax law requires',
    source: 'Our payment provider',
  },
  note: 'Card details beyond the last four digits: held by our payment provider, never by us.',
})
export class BillingExporter implements CategoryExporter<Invoice> {
  constructor(private readonly payments: DemoPaymentProvider) {}

  rows(subject: ExportSubject, filters: ExporterFilters): AsyncIterable<Invoice> {
    return this.payments.invoices(subject.accountId, filters.since);
  }

  /** How many invoices `rows()` yields: the estimate shows it, and instant downloads need it. */
  async count(subject: ExportSubject, filters: ExporterFilters): Promise<number> {
    let n = 0;
    for await (const _ of this.payments.invoices(subject.accountId, filters.since)) n++;
    return n;
  }
}
