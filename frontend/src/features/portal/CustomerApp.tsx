// The customer portal: what a customer admin sees after signing in, in
// their language. Its own navigation (subscriptions, organisation, team),
// the product and the organisation's name, the signed-in user with sign-out,
// the language switch and a skip link; every page has one <h1> and a
// document title.
import { ConnectionBanner } from '../../shared/components/ConnectionBanner';
import { SessionGuard } from '../../shared/components/SessionDialog';
import { lazy, Suspense, type ReactNode } from 'react';
import { Link, Navigate, NavLink, Route, Routes } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Button, Icon, Spinner } from '@blueprintjs/core';
import { useTranslation } from 'react-i18next';
import { api, queryKeys, type Me } from '../../shared/api';
import { LanguageSwitch } from '../../shared/i18n/LanguageSwitch';
import { PageTitle } from './common';
import { MySubscriptionsPage, mySubscriptionsQuery } from './Subscriptions';
import './portal.css';

const MySubscriptionPage = lazy(() => import('./Subscription').then((m) => ({ default: m.MySubscriptionPage })));
const OrganisationPage = lazy(() => import('./Organisation').then((m) => ({ default: m.OrganisationPage })));
const TeamPage = lazy(() => import('../team/Team').then((m) => ({ default: m.TeamPage })));

const NAV = [
  { to: '/subscriptions', key: 'nav.subscriptions', icon: 'th-list' },
  { to: '/organisation', key: 'nav.organisation', icon: 'office' },
  { to: '/team', key: 'nav.team', icon: 'people' },
] as const;

/** The product's name: the offer when the customer has one, else the portal's. */
function useBrand(): string {
  const { t } = useTranslation('portal');
  const subs = useQuery(mySubscriptionsQuery);
  const offers = [...new Set((subs.data?.items ?? []).map((s) => s.offer).filter(Boolean))];
  return offers.length === 1 ? offers[0] : t('brand');
}

export function CustomerApp({ user, onSignOut, children }: { user: Me; onSignOut: () => void; children?: ReactNode }) {
  const { t } = useTranslation('portal');
  const brand = useBrand();
  const org = useQuery({ queryKey: queryKeys.my.organisation, queryFn: () => api.my.organisation() });
  return (
    <div className="mg-shell mg-portal">
      <a className="mg-skip-link" href="#main">
        {t('common:skipToContent')}
      </a>
      <header className="mg-top">
        <span className="mg-brand" data-testid="portal-brand">
          {brand}
        </span>
        {org.data && (
          <span className="mg-portal-org" data-testid="portal-organisation">
            {org.data.organisation.name}
          </span>
        )}
        <span className="mg-spacer" />
        <LanguageSwitch />
        <span data-testid="current-user" title={t('signedInAs', { email: user.email })}>
          {user.name || user.email}
        </span>
        <Button minimal small icon="log-out" onClick={onSignOut} text={t('common:signOut')} />
      </header>
      <nav className="mg-side" aria-label={t('nav.label')} data-testid="portal-nav">
        {/* Links styled as Blueprint menu items (a Menu's roles would need a menu widget's keyboard). */}
        <ul className="mg-portal-nav">
          {NAV.map((n) => (
            <li key={n.to}>
              <NavLink to={n.to} className={({ isActive }) => 'bp6-menu-item' + (isActive ? ' bp6-active' : '')}>
                <Icon icon={n.icon} />
                <span className="bp6-text-overflow-ellipsis bp6-fill">{t(n.key)}</span>
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main className="mg-main" id="main" tabIndex={-1}>
        <ConnectionBanner />
        <Suspense fallback={<Spinner size={24} aria-label={t('common:loading')} />}>
          <Routes>
            <Route path="/" element={<Navigate to="/subscriptions" replace />} />
            <Route path="/subscriptions" element={<MySubscriptionsPage />} />
            <Route path="/subscriptions/:id" element={<MySubscriptionPage />} />
            <Route path="/organisation" element={<OrganisationPage />} />
            <Route path="/team" element={<MyTeamPage />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </main>
      <SessionGuard email={user.email} />
      {children}
    </div>
  );
}

/** The customer admins of the organisation and their invitations (the team feature as it is). */
function MyTeamPage() {
  const { t } = useTranslation('portal');
  return (
    <div>
      <PageTitle>{t('team.title')}</PageTitle>
      <TeamPage />
    </div>
  );
}

function NotFound() {
  const { t } = useTranslation('portal');
  return (
    <div>
      <PageTitle>{t('notFound.title')}</PageTitle>
      <p>{t('notFound.body')}</p>
      <Link to="/subscriptions">{t('notFound.back')}</Link>
    </div>
  );
}
