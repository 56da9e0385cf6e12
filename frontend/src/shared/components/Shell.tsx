// The console shell's small parts: the skip link (the first thing a
// keyboard reaches), the sidebar's collapse toggle (remembered in this
// browser), and the page for an address that does not exist.
import { useEffect, useState } from 'react';
import { Link, useLocation } from 'react-router';
import { Button, NonIdealState } from '@blueprintjs/core';
import { PageTitle } from './PageTitle';

/** The id of the page's main landmark, where the skip link leads. */
export const MAIN_ID = 'main';

/** "Skip to content": hidden until focused, then the first visible thing. */
export function SkipLink() {
  return (
    <a className="mg-skip" href={'#' + MAIN_ID} onClick={(e) => {
      // Move focus too (a hash link alone does not in every browser).
      e.preventDefault();
      document.getElementById(MAIN_ID)?.focus();
    }}>
      Skip to content
    </a>
  );
}

export const SIDEBAR_KEY = 'mg-sidebar';

/** Whether the sidebar is collapsed to its icons, remembered in localStorage. */
export function useSidebarCollapsed(): [boolean, () => void] {
  const [collapsed, setCollapsed] = useState(() => localStorage.getItem(SIDEBAR_KEY) === 'collapsed');
  useEffect(() => {
    localStorage.setItem(SIDEBAR_KEY, collapsed ? 'collapsed' : 'expanded');
  }, [collapsed]);
  return [collapsed, () => setCollapsed((c) => !c)];
}

export function SidebarToggle({ collapsed, onToggle }: { collapsed: boolean; onToggle: () => void }) {
  return (
    <Button
      variant="minimal"
      size="small"
      icon={collapsed ? 'menu-open' : 'menu-closed'}
      onClick={onToggle}
      aria-label={collapsed ? 'Expand the sidebar' : 'Collapse the sidebar'}
      aria-expanded={!collapsed}
      aria-controls="mg-sidebar"
      title={collapsed ? 'Expand the sidebar' : 'Collapse the sidebar'}
      data-testid="sidebar-toggle"
    />
  );
}

/** An address the console does not know: say so and offer the way back. */
export function NotFoundPage() {
  const { pathname } = useLocation();
  return (
    <div>
      <PageTitle title="Page not found" />
      <NonIdealState
        icon="search"
        description={
          <>
            There is no page at <code>{pathname}</code>. It may have moved, or the link may be mistyped.
          </>
        }
        action={
          <div className="mg-toolbar" style={{ justifyContent: 'center' }}>
            <Link to="/" className="bp6-button bp6-intent-primary" data-testid="not-found-home">
              Go to the dashboard
            </Link>
            <Button text="Go back" icon="arrow-left" onClick={() => window.history.back()} />
          </div>
        }
      />
    </div>
  );
}
