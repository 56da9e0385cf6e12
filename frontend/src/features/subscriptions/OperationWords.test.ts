import { describe, expect, it } from 'vitest';
import type { AzureOperation } from '../../shared/api';
import { describeOperation, operationOutcome } from './AzurePanel';

const op = (o: Partial<AzureOperation>): AzureOperation =>
  ({ operation_id: 'op', action: 'ChangeQuantity', source: 'Partner', status: 'Succeeded', created_at: '', updated_at: '', finished_at: '', ...o }) as AzureOperation;

describe('Microsoft operations in plain words', () => {
  it('says what Microsoft did, not the API action name', () => {
    expect(operationOutcome(op({ quantity: 40 }))).toBe('Microsoft changed the seats to 40.');
    expect(operationOutcome(op({ action: 'ChangePlan', plan_id: 'gold' }))).toBe('Microsoft changed the plan to gold.');
    expect(operationOutcome(op({ action: 'Unsubscribe' }))).toBe('Microsoft ended the subscription.');
    expect(operationOutcome(op({ quantity: 7, status: 'Failed' }))).toBe('Microsoft did not change the seats to 7 (Failed).');
    expect(describeOperation(op({ quantity: 40 }))).toBe('Change the seats to 40');
    for (const o of [op({ quantity: 40 }), op({ action: 'ChangePlan', plan_id: 'gold' })]) {
      expect(operationOutcome(o)).not.toMatch(/ChangeQuantity|ChangePlan|→/);
    }
  });
});
