import { describe, expect, it } from 'vitest';
import { subscriptionName } from './format';

describe('subscriptionName: one naming rule', () => {
  it("uses the marketplace's name, else Customer – Offer, and a number only with neither", () => {
    expect(subscriptionName({ id: 4, name: 'Northwind UX Test subscription', customer: { name: 'Northwind' }, offer: { name: 'Acme' } })).toBe('Northwind UX Test subscription');
    expect(subscriptionName({ id: 402, name: '', customer: { name: 'Northwind Labs' }, offer: { name: 'Acme Analytics' } })).toBe('Northwind Labs – Acme Analytics');
    expect(subscriptionName({ id: 402, name: ' ', customer: null, offer: { name: 'Acme Analytics' } })).toBe('Acme Analytics');
    expect(subscriptionName({ id: 402, name: '' })).toBe('Subscription #402');
  });
});
