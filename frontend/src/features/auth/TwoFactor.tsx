// Two-factor authentication for one's own password account (set up with an
// authenticator app: QR code, otpauth URI or the secret typed by hand;
// recovery codes shown once), and the admins' security settings (require
// two-factor authentication of all seller staff; single sign-on status).
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, Card, Classes, Code, FormGroup, H5, InputGroup, Switch, Tag } from '@blueprintjs/core';
import { api, queryKeys, type Me, type TwoFactorSetup } from '../../shared/api';
import { ErrorBox, Loading } from '../../shared/components/components';
import { CopyButton } from '../../shared/components/common';

/** The recovery codes, shown once after they are made. */
function RecoveryCodes({ codes }: { codes: string[] }) {
  return (
    <Callout intent="warning" title="Save your recovery codes now" data-testid="recovery-codes" style={{ marginTop: 8 }}>
      <p>Each code signs you in once if you lose your phone. They are not shown again.</p>
      <pre style={{ columns: 2, margin: '6px 0' }}>{codes.join('\n')}</pre>
      <CopyButton text={codes.join('\n')} />
    </Callout>
  );
}

export function TwoFactorCard({ user }: { user: Me }) {
  const qc = useQueryClient();
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [setup, setSetup] = useState<TwoFactorSetup | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const refreshMe = () => qc.invalidateQueries({ queryKey: queryKeys.me });
  const start = useMutation({
    mutationFn: () => api.auth.twoFactorSetup(password),
    onSuccess: (s) => {
      setSetup(s);
      setPassword('');
    },
  });
  const enable = useMutation({
    mutationFn: () => api.auth.twoFactorEnable(code),
    onSuccess: (r) => {
      setCodes(r.recovery_codes);
      setSetup(null);
      setCode('');
    },
  });
  const disable = useMutation({
    mutationFn: () => api.auth.twoFactorDisable(password),
    onSuccess: () => {
      setPassword('');
      setCodes(null);
      void refreshMe();
    },
  });
  const regenerate = useMutation({
    mutationFn: () => api.auth.recoveryCodes(password),
    onSuccess: (r) => {
      setCodes(r.recovery_codes);
      setPassword('');
      void refreshMe();
    },
  });

  if (user.sso) {
    return (
      <Card style={{ maxWidth: 640, marginTop: 12 }} data-testid="two-factor">
        <H5>Two-factor authentication</H5>
        <p>You sign in with your company&apos;s account; its sign-in provides the second factor.</p>
      </Card>
    );
  }
  const pw = (
    <FormGroup label="Current password" labelFor="tfa-password" inline>
      <InputGroup id="tfa-password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
    </FormGroup>
  );
  const error = start.error ?? enable.error ?? disable.error ?? regenerate.error;
  return (
    <Card style={{ maxWidth: 640, marginTop: 12 }} data-testid="two-factor">
      <H5>
        Two-factor authentication{' '}
        {user.two_factor_enabled ? (
          <Tag intent="success" minimal>
            on
          </Tag>
        ) : (
          <Tag minimal>off</Tag>
        )}
      </H5>
      {codes && <RecoveryCodes codes={codes} />}
      {codes && (
        <Button
          intent="primary"
          text="I saved them"
          style={{ marginTop: 8 }}
          onClick={() => {
            setCodes(null);
            void refreshMe();
          }}
        />
      )}
      {!codes && user.two_factor_enabled && (
        <>
          <p>
            Signing in asks for a code from your authenticator app. Recovery codes left: <strong>{user.recovery_codes_left ?? 0}</strong>.
          </p>
          {pw}
          <Button text="New recovery codes" onClick={() => regenerate.mutate()} loading={regenerate.isPending} disabled={!password} />{' '}
          <Button intent="danger" minimal text="Turn off" onClick={() => disable.mutate()} loading={disable.isPending} disabled={!password} />
        </>
      )}
      {!codes && !user.two_factor_enabled && !setup && (
        <>
          <p>Protect your password with a code from an authenticator app (Microsoft Authenticator, Google Authenticator, 1Password…).</p>
          {pw}
          <Button intent="primary" text="Set up" onClick={() => start.mutate()} loading={start.isPending} disabled={!password} />
        </>
      )}
      {!codes && setup && (
        <div data-testid="two-factor-setup">
          <p>Scan the code with your authenticator app, or enter the key by hand.</p>
          <img src={setup.qr_code_url} alt="QR code for your authenticator app" width={200} height={200} />
          <dl className="mg-grid">
            <dt>Key</dt>
            <dd>
              <Code data-testid="totp-secret">{setup.secret}</Code> <CopyButton text={setup.secret} />
            </dd>
            <dt>Link</dt>
            <dd>
              <a href={setup.otpauth_uri} data-testid="totp-uri">
                {setup.otpauth_uri}
              </a>
            </dd>
          </dl>
          <FormGroup label="Code from the app" labelFor="tfa-code" inline>
            <InputGroup id="tfa-code" autoComplete="one-time-code" inputMode="numeric" value={code} onChange={(e) => setCode(e.target.value)} />
          </FormGroup>
          <Button intent="primary" text="Turn on" onClick={() => enable.mutate()} loading={enable.isPending} disabled={code.length < 6} />
        </div>
      )}
      {error && <ErrorBox error={error} />}
    </Card>
  );
}

/** Admins: require two-factor authentication of all seller staff. */
export function SecurityCard() {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: queryKeys.security, queryFn: api.security.get });
  const save = useMutation({
    mutationFn: (require: boolean) => api.security.setRequireTwoFactor(require),
    onSuccess: (s) => {
      qc.setQueryData(queryKeys.security, s);
      void qc.invalidateQueries({ queryKey: queryKeys.me });
    },
  });
  if (q.isPending) return <Loading />;
  if (q.isError && q.data === undefined) return <ErrorBox error={q.error} />;
  return (
    <Card style={{ maxWidth: 640, marginTop: 12 }} data-testid="security-settings">
      <H5>Security</H5>
      <Switch
        checked={q.data.require_two_factor}
        disabled={save.isPending}
        label="Require two-factor authentication for all seller staff with a password"
        onChange={(e) => save.mutate(e.currentTarget.checked)}
        data-testid="require-two-factor"
      />
      <p className={Classes.TEXT_MUTED}>
        Staff without it must set it up at their next visit before doing anything else. Single sign-on:{' '}
        {q.data.sso ? <Tag intent="success" minimal>{q.data.sso.name}</Tag> : <Tag minimal>not configured</Tag>}
      </p>
      {save.error && <ErrorBox error={save.error} />}
    </Card>
  );
}
