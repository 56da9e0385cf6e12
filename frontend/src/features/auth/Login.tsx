import { useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { AnchorButton, Button, Callout, Card, Classes, Divider, FormGroup, InputGroup } from '@blueprintjs/core';
import { api, queryKeys } from '../../shared/api';
import { ErrorBox } from '../../shared/components/components';
import { safeNext } from '../../shared/safeNext';
import { useDocumentTitle } from '../../shared/useDocumentTitle';

export function Login() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // After the password, accounts with two-factor authentication send a code.
  const [secondStep, setSecondStep] = useState(false);
  const [code, setCode] = useState('');
  const [useRecovery, setUseRecovery] = useState(false);
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const next = safeNext(params.get('next'));
  useDocumentTitle('Sign in');
  const failure = params.get('error');
  const options = useQuery({
    queryKey: queryKeys.authOptions,
    queryFn: () => api.auth.options(),
    staleTime: Infinity,
    retry: false,
  });

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = secondStep
        ? await api.auth.loginTwoFactor(useRecovery ? { recovery_code: code } : { code })
        : await api.auth.login(email, password);
      if (res.two_factor_required) {
        setSecondStep(true);
        setPassword('');
        return;
      }
      qc.setQueryData(queryKeys.me, res);
      navigate(next, { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="mg-login">
      <form onSubmit={submit} aria-label="Sign in">
        <Card elevation={2}>
          <h1 className={Classes.HEADING + ' mg-h1'}>Sign in to Marketgate</h1>
          {failure && (
            <Callout intent="danger" title="Sign-in did not work" role="alert" style={{ marginBottom: 12 }} data-testid="login-error">
              {failure}
            </Callout>
          )}
          {options.data?.sso && !secondStep && (
            <>
              <AnchorButton
                fill
                large
                icon="office"
                intent="primary"
                text={'Sign in with ' + options.data.sso.name}
                href={options.data.sso.url + '?next=' + encodeURIComponent(next)}
                data-testid="sso-sign-in"
              />
              <Divider style={{ margin: '12px 0' }} />
            </>
          )}
          {options.data?.microsoft && !secondStep && (
            <>
              <AnchorButton
                fill
                large
                icon="key"
                text="Sign in with Microsoft"
                href={'/auth/microsoft?next=' + encodeURIComponent(next)}
                data-testid="microsoft-sign-in"
              />
              <Divider style={{ margin: '12px 0' }} />
            </>
          )}
          {secondStep ? (
            <>
              <p data-testid="two-factor-step">
                {useRecovery
                  ? 'Enter one of your recovery codes. Each works once.'
                  : 'Enter the 6-digit code from your authenticator app.'}
              </p>
              <FormGroup label={useRecovery ? 'Recovery code' : 'Code'} labelFor="code">
                <InputGroup
                  id="code"
                  autoComplete="one-time-code"
                  inputMode={useRecovery ? 'text' : 'numeric'}
                  value={code}
                  onChange={(e) => setCode(e.target.value)}
                  autoFocus
                />
              </FormGroup>
              <Button
                minimal
                small
                text={useRecovery ? 'Use the authenticator app instead' : 'Use a recovery code instead'}
                onClick={() => {
                  setUseRecovery((r) => !r);
                  setCode('');
                }}
              />
            </>
          ) : (
            <>
              <FormGroup label="E-mail" labelFor="email">
                <InputGroup id="email" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
              </FormGroup>
              <FormGroup label="Password" labelFor="password">
                <InputGroup id="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
              </FormGroup>
            </>
          )}
          {error !== null && <ErrorBox error={error} />}
          <Button type="submit" intent="primary" fill loading={busy} text={secondStep ? 'Verify' : 'Sign in'} style={{ marginTop: 8 }} />
        </Card>
      </form>
    </div>
  );
}
