import { useState } from 'react';
import { Link } from 'react-router';
import { Button } from '@blueprintjs/core';
import { SubscriptionUsage } from '../usage/SubscriptionUsage';
import { useCanWrite } from './meteringShared';
import { UsageEntryDialog } from './UsageEntryDialog';

// SubscriptionMetering is the subscription page's Metering tab: the usage
// report the customer sees too (charts, records, CSV), plus the seller's
// usage entry and a way to the records' retry on the Metering page.
export function SubscriptionMetering({ id }: { id: number }) {
  const [entry, setEntry] = useState(false);
  const canWrite = useCanWrite();
  return (
    <div>
      <div style={{ display: 'flex', gap: 8, alignItems: 'center', marginBottom: 8 }}>
        {canWrite && <Button icon="add" text="Enter usage" onClick={() => setEntry(true)} />}
        <Link to={'/metering?subscription=' + id}>Retry or filter this subscription's records on the Metering page</Link>
      </div>
      <SubscriptionUsage subscriptionId={id} />
      {entry && <UsageEntryDialog onClose={() => setEntry(false)} subscription={id} />}
    </div>
  );
}
