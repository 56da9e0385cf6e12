// The admin's first-run checklist on the dashboard: per marketplace, the
// steps still to do, until every check passes; it can be dismissed only then.
import { useState } from 'react';
import { Link } from 'react-router';
import { Button, Callout, Icon } from '@blueprintjs/core';
import { dismiss, groups, isDismissed, statusLook, type Marketplace } from './setupModel';
import { useSetupReport } from './useSetupReport';

export function SetupChecklist() {
  const q = useSetupReport();
  const [, setTick] = useState(0);
  if (!q.data) return null; // pending, failed or not an admin: nothing to show
  const shown = groups(q.data).filter((g) => g.configured && !(g.done && isDismissed(g.id)));
  if (shown.length === 0) return null;
  const hide = (mp: Marketplace) => {
    dismiss(mp);
    setTick((n) => n + 1);
  };
  return (
    <section aria-label="Go-live checklist" data-testid="setup-checklist" style={{ marginTop: 16 }}>
      {shown.map((g) => (
        <Callout
          key={g.id}
          intent={g.done ? 'success' : 'warning'}
          icon={g.done ? 'tick-circle' : 'build'}
          title={`${g.name}: ${g.done ? 'ready to go live' : `${g.passed} of ${g.checks.length} steps done`}`}
          style={{ marginBottom: 8 }}
          data-testid={`checklist-${g.id}`}
        >
          <ul className="mg-setup-list">
            {g.checks
              .filter((c) => c.status === 'fail' || c.status === 'warn')
              .map((c) => (
                <li key={c.id + (c.subject ?? '')}>
                  <Icon icon={statusLook(c.status).icon} intent={statusLook(c.status).intent} /> {c.title}
                  {c.subject && <span className="mg-muted"> — {c.subject}</span>}
                </li>
              ))}
          </ul>
          <Link to="/setup">Open the Setup page for the fixes</Link>{' '}
          {g.done && <Button small minimal icon="cross" text="Dismiss" onClick={() => hide(g.id)} data-testid={`dismiss-${g.id}`} />}
        </Callout>
      ))}
    </section>
  );
}
