import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { decodePayload, PayloadViewer } from './Payload';

const inner = {
  action: 'subscribe-success',
  'customer-identifier': 'XB0ZHWNBL9Q',
  isFreeTrialTermPresent: 'false',
  'product-code': 'acme4analytics7legacy',
};
// As SQS delivers an SNS notification: the Message is JSON inside a JSON string.
const sns = JSON.stringify({
  Type: 'Notification',
  MessageId: '8c00ba6a',
  TopicArn: 'arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-acme4analytics7legacy',
  Message: JSON.stringify(inner),
  Timestamp: '2026-11-27T01:13:58.069Z',
});

afterEach(cleanup);

describe('decodePayload', () => {
  it('decodes the Message of an SNS envelope', () => {
    const d = decodePayload(sns, 'application/json');
    expect(d.kind).toBe('sns');
    expect(d.innerIsJson).toBe(true);
    expect(d.inner).toEqual(inner);
  });
  it('keeps a Message that is not JSON as text, and tells JSON, form posts and text apart', () => {
    const d = decodePayload(JSON.stringify({ Type: 'Notification', Message: 'hello' }));
    expect(d).toMatchObject({ kind: 'sns', inner: 'hello', innerIsJson: false });
    expect(decodePayload('{"eventId":"e1","detail":{"a":1}}').kind).toBe('json');
    expect(decodePayload('x-amzn-marketplace-token=abc%3D&offer=1', 'application/x-www-form-urlencoded')).toEqual({
      kind: 'form',
      fields: [
        ['x-amzn-marketplace-token', 'abc='],
        ['offer', '1'],
      ],
    });
    expect(decodePayload('<xml/>').kind).toBe('text');
    expect(decodePayload('  ').kind).toBe('empty');
  });
});

describe('PayloadViewer', () => {
  it('shows the decoded SNS Message and the envelope, pretty and collapsible', () => {
    render(<PayloadViewer body={sns} contentType="application/json" />);
    const decoded = screen.getByTestId('payload-decoded');
    // Each field of the inner message on its own line, not an escaped string.
    expect(decoded.textContent).toContain('"customer-identifier": "XB0ZHWNBL9Q"');
    expect(decoded.textContent).toContain('"product-code": "acme4analytics7legacy"');
    expect(decoded.textContent).not.toContain('\\"');
    const envelope = screen.getByTestId('payload-envelope');
    expect(envelope.textContent).toContain('"TopicArn": "arn:aws:sns');

    // Collapse the decoded message: its fields go, a summary stays; expand again.
    fireEvent.click(within(decoded).getByRole('button', { name: 'Collapse root' }));
    expect(decoded.textContent).not.toContain('XB0ZHWNBL9Q');
    expect(decoded.textContent).toContain('… 4 keys');
    fireEvent.click(within(decoded).getByRole('button', { name: 'Expand root' }));
    expect(decoded.textContent).toContain('XB0ZHWNBL9Q');

    // Raw shows the body exactly as stored.
    fireEvent.click(screen.getByRole('button', { name: 'Raw' }));
    expect(screen.getByTestId('payload-raw').textContent).toBe(sns);
    expect(screen.queryByTestId('payload-decoded')).toBeNull();
  });

  it('collapses and expands nested values; "Collapse all" folds everything below the top', () => {
    const body = JSON.stringify({ id: 'op-1', subscription: { id: 's-1', beneficiary: { tenantId: 't-9' } }, quantity: 5 });
    render(<PayloadViewer body={body} contentType="application/json" />);
    const tree = screen.getByRole('tree', { name: 'Body' });
    expect(tree.textContent).toContain('"tenantId": "t-9"');
    fireEvent.click(within(tree).getByRole('button', { name: 'Collapse subscription' }));
    expect(tree.textContent).not.toContain('t-9');
    expect(tree.textContent).toContain('"quantity": 5');
    fireEvent.click(screen.getByRole('button', { name: 'Expand all' }));
    expect(screen.getByRole('tree', { name: 'Body' }).textContent).toContain('"tenantId": "t-9"');
    fireEvent.click(screen.getByRole('button', { name: 'Collapse all' }));
    const folded = screen.getByRole('tree', { name: 'Body' });
    expect(folded.textContent).toContain('"id": "op-1"');
    expect(folded.textContent).not.toContain('s-1');
  });

  it('shows a body that is not JSON as it is', () => {
    render(<PayloadViewer body="not json at all" contentType="text/plain" />);
    expect(screen.getByTestId('payload-raw').textContent).toBe('not json at all');
    expect(screen.queryByRole('button', { name: 'Pretty' })).toBeNull();
  });
});
