import { lazy, Suspense, useEffect, useState } from 'react';
import { Navigate, NavLink, Route, Routes, useLocation, useNavigate } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Classes, Dialog, DialogBody, DialogFooter, FormGroup, Icon, InputGroup, Tag } from '@blueprintjs/core';
import { api, queryKeys, ApiError, isUnreachable, setUnauthenticatedHandler, type Me } from './shared/api';
import { ErrorBox, Loading } from './shared/components/components';
import { ConnectionBanner } from './shared/components/ConnectionBanner';
import { SessionGuard } from './shared/components/SessionDialog';
import { MAIN_ID, NotFoundPage, SidebarToggle, SkipLink, useSidebarCollapsed } from './shared/components/Shell';
import { Unreachable } from './shared/components/QueryState';
import { Login } from './features/auth/Login';

// Pages load on first use: the sign-in page's JS stays small (issue 18).
const SubscriptionsPage = lazy(() => import('./features/subscriptions/Subscriptions').then((m) => ({ default: m.SubscriptionsPage })));
const DashboardPage = lazy(() => import('./features/dashboard/Dashboard').then((m) => ({ default: m.DashboardPage })));
const CustomerApp = lazy(() => import('./features/portal/CustomerApp').then((m) => ({ default: m.CustomerApp })));
const SubscriptionPage = lazy(() => import('./features/subscriptions/Subscription').then((m) => ({ default: m.SubscriptionPage })));
const MeteringPage = lazy(() => import('./features/metering/Metering').then((m) => ({ default: m.MeteringPage })));
const TeamPage = lazy(() => import('./features/team/Team').then((m) => ({ default: m.TeamPage })));
const WebhooksPage = lazy(() => import('./features/webhooks/Webhooks').then((m) => ({ default: m.WebhooksPage })));
const AlertsPage = lazy(() => import('./features/alerts/Alerts').then((m) => ({ default: m.AlertsPage })));
const NotificationsPage = lazy(() => import('./features/notifications/Notifications').then((m) => ({ default: m.NotificationsPage })));
const CustomersPage = lazy(() => import('./features/customers/Customers').then((m) => ({ default: m.CustomersPage })));
const CustomerPage = lazy(() => import('./features/customers/Customers').then((m) => ({ default: m.CustomerPage })));
const OffersPage = lazy(() => import('./features/offers/Offers').then((m) => ({ default: m.OffersPage })));
const UsersPage = lazy(() => import('./features/users/Users').then((m) => ({ default: m.UsersPage })));
const AuditPage = lazy(() => import('./features/audit/Audit').then((m) => ({ default: m.AuditPage })));
const SetupPage = lazy(() => import('./features/setup/Setup').then((m) => ({ default: m.SetupPage })));
const SettingsPage = lazy(() => import('./features/settings/Settings').then((m) => ({ default: m.SettingsPage })));
const ChangeRequestsPage = lazy(() => import('./features/changes/ChangeRequestsPage').then((m) => ({ default: m.ChangeRequestsPage })));
const AgreementPage = lazy(() => import('./features/agreements/AgreementPage').then((m) => ({ default: m.AgreementPage })));
const RenewalsPage = lazy(() => import('./features/renewals/Renewals').then((m) => ({ default: m.RenewalsPage })));
const TwoFactorCard = lazy(() => import('./features/auth/TwoFactor').then((m) => ({ default: m.TwoFactorCard })));

// Customer admins see only the items that are not sellerOnly or adminOnly.
const NAV: { to: string; label: string; icon: string; adminOnly?: boolean; sellerOnly?: boolean; customerOnly?: boolean }[] = [
  { to: '/', label: 'Dashboard', icon: 'dashboard' },
  { to: '/subscriptions', label: 'Subscriptions', icon: 'th-list' },
  { to: '/metering', label: 'Metering', icon: 'timeline-line-chart', sellerOnly: true },
  { to: '/notifications', label: 'Notifications', icon: 'inbox', sellerOnly: true },
  { to: '/customers', label: 'Customers', icon: 'people', sellerOnly: true },
  { to: '/offers', label: 'Offers', icon: 'shop', sellerOnly: true },
  { to: '/change-requests', label: 'Change requests', icon: 'exchange', sellerOnly: true },
  { to: '/renewals', label: 'Renewals', icon: 'refresh', sellerOnly: true },
  { to: '/webhooks', label: 'Webhooks', icon: 'send-message', adminOnly: true },
  { to: '/alerts', label: 'Alerts', icon: 'notifications', sellerOnly: true },
  { to: '/team', label: 'Team', icon: 'people', customerOnly: true },
  { to: '/users', label: 'Users', icon: 'user', adminOnly: true },
  { to: '/audit', label: 'Audit log', icon: 'history', adminOnly: true },
  { to: '/setup', label: 'Setup', icon: 'build', adminOnly: true },
  { to: '/settings', label: 'Settings', icon: 'cog' },
];

function useTheme(): [boolean, () => void] {
  const [dark, setDark] = useState(() => localStorage.getItem('mg-theme') === 'dark');
  useEffect(() => {
    document.body.classList.toggle(Classes.DARK, dark);
    document.body.classList.toggle('mg-dark', dark);
    localStorage.setItem('mg-theme', dark ? 'dark' : 'light');
  }, [dark]);
  return [dark, () => setDark((d) => !d)];
}

export function App() {
  const navigate = useNavigate();
  const location = useLocation();
  const qc = useQueryClient();
  const me = useQuery({
    queryKey: queryKeys.me,
    queryFn: () => api.auth.me(),
    // Only an unreachable server is worth retrying here (the page says so meanwhile).
    retry: (_, err) => isUnreachable(err),
    staleTime: 60_000,
  });

  useEffect(() => {
    setUnauthenticatedHandler(() => {
      qc.setQueryData(queryKeys.me, null);
      qc.removeQueries({ predicate: (q) => q.queryKey[0] !== queryKeys.me[0] });
    });
    return () => setUnauthenticatedHandler(null);
  }, [qc]);

  if (location.pathname === '/login') {
    return <Login />;
  }
  if (me.isPending) return isUnreachable(me.failureReason) ? <Unreachable /> : <Loading />;
  const unauth = (me.error instanceof ApiError && me.error.status === 401) || (me.isSuccess && !me.data);
  if (unauth) {
    const next = location.pathname + location.search;
    return <Navigate to={'/login' + (next !== '/' ? '?next=' + encodeURIComponent(next) : '')} replace />;
  }
  if (me.isError) return <ErrorBox error={me.error} />;
  const user = me.data!.user;
  const signOut = async () => {
    try {
      await api.auth.logout();
    } finally {
      qc.clear();
      navigate('/login');
    }
  };
  if (user.role === 'customer_admin') {
    return (
      <Suspense fallback={<Loading />}>
        <CustomerApp user={user} onSignOut={signOut}>
          {user.must_change_password && <ChangePassword />}
        </CustomerApp>
      </Suspense>
    );
  }
  return <Shell user={user} onSignOut={signOut} />;
}

function Shell({ user, onSignOut }: { user: Me; onSignOut: () => void }) {
  const [dark, toggle] = useTheme();
  const seller = user.role !== 'customer_admin';
  const [collapsed, toggleSidebar] = useSidebarCollapsed();
  return (
    <div className={'mg-shell' + (collapsed ? ' mg-collapsed' : '')}>
      <SkipLink />
      <header className="mg-top">
        <SidebarToggle collapsed={collapsed} onToggle={toggleSidebar} />
        <span className="mg-brand">Marketgate</span>
        <span className="mg-spacer" />
        <span data-testid="current-user">
          {user.email} <Tag minimal>{user.role}</Tag>
        </span>
        <Button minimal small icon={dark ? 'flash' : 'moon'} onClick={toggle} aria-label="Toggle theme" title="Toggle dark/light theme" />
        <Button minimal small icon="log-out" onClick={onSignOut} text="Sign out" />
      </header>
      <nav className="mg-side" id="mg-sidebar" aria-label="Main">
        <ul className={Classes.MENU + ' mg-nav'}>
          {NAV.filter((n) => (!n.adminOnly || user.role === 'admin') && (!n.sellerOnly || seller) && (!n.customerOnly || !seller)).map((n) => (
            <li key={n.to}>
              <NavLink
                to={n.to}
                end={n.to === '/'}
                className={({ isActive }) => Classes.MENU_ITEM + (isActive ? ' ' + Classes.ACTIVE : '')}
                aria-label={collapsed ? n.label : undefined}
                title={collapsed ? n.label : undefined}
              >
                <Icon icon={n.icon as never} />
                {!collapsed && <span className={Classes.FILL}>{n.label}</span>}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main className="mg-main" id={MAIN_ID} tabIndex={-1}>
        <ConnectionBanner />
        <Suspense fallback={<Loading />}>
          <Routes>
            <Route path="/" element={<DashboardPage />} />
            <Route path="/subscriptions" element={<SubscriptionsPage />} />
            <Route path="/subscriptions/:id" element={<SubscriptionPage />} />
            <Route path="/subscriptions/:id/agreement" element={<AgreementPage />} />
            <Route path="/renewals" element={<RenewalsPage />} />
            <Route path="/metering" element={<MeteringPage />} />
            <Route path="/notifications" element={<NotificationsPage />} />
            <Route path="/notifications/:id" element={<NotificationsPage />} />
            <Route path="/customers" element={<CustomersPage />} />
            <Route path="/customers/:id" element={<CustomerPage />} />
            <Route path="/customers/:id/admins" element={<TeamPage />} />
            <Route path="/team" element={<TeamPage />} />
            <Route path="/offers" element={<OffersPage />} />
            <Route path="/change-requests" element={<ChangeRequestsPage />} />
            <Route path="/webhooks" element={<WebhooksPage />} />
            <Route path="/webhooks/:id" element={<WebhooksPage />} />
            <Route path="/alerts" element={<AlertsPage />} />
            <Route path="/users" element={<UsersPage />} />
            <Route path="/audit" element={<AuditPage />} />
            <Route path="/setup" element={<SetupPage />} />
            <Route path="/settings" element={<SettingsPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Routes>
        </Suspense>
      </main>
      <SessionGuard email={user.email} />
      {user.must_change_password && <ChangePassword />}
      {!user.must_change_password && user.must_enable_two_factor && <RequireTwoFactor user={user} />}
    </div>
  );
}

/** An admin requires two-factor authentication: set it up before anything else. */
function RequireTwoFactor({ user }: { user: Me }) {
  return (
    <Dialog isOpen title="Set up two-factor authentication" isCloseButtonShown={false} style={{ width: 680 }}>
      <DialogBody>
        <p>An admin requires two-factor authentication for all seller staff. Set it up to continue.</p>
        <Suspense fallback={<Loading />}>
          <TwoFactorCard user={user} />
        </Suspense>
      </DialogBody>
    </Dialog>
  );
}

function ChangePassword() {
  const qc = useQueryClient();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await api.auth.changePassword(current, next);
      await qc.invalidateQueries();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Dialog isOpen title="Choose your own password" isCloseButtonShown={false}>
      <form onSubmit={submit}>
        <DialogBody>
          <p>You signed in with a one-time password. Choose your own to continue.</p>
          <FormGroup label="One-time password" labelFor="pw-current">
            <InputGroup id="pw-current" type="password" value={current} onChange={(e) => setCurrent(e.target.value)} />
          </FormGroup>
          <FormGroup label="New password (at least 10 characters)" labelFor="pw-new">
            <InputGroup id="pw-new" type="password" value={next} onChange={(e) => setNext(e.target.value)} />
          </FormGroup>
          {error !== null && <ErrorBox error={error} />}
        </DialogBody>
        <DialogFooter actions={<Button type="submit" intent="primary" text="Save password" />} />
      </form>
    </Dialog>
  );
}
