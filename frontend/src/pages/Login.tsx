import { useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { AnchorButton, Button, Callout, Card, Divider, FormGroup, H3, InputGroup } from '@blueprintjs/core';
import { api, type User } from '../api';
import { ErrorBox } from '../components';
import { safeNext } from '../safeNext';

export function Login() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const next = safeNext(params.get('next'));
  const failure = params.get('error');
  const options = useQuery({
    queryKey: ['auth-options'],
    queryFn: () => api<{ microsoft: boolean }>('/api/auth/options'),
    staleTime: Infinity,
    retry: false,
  });

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await api<{ user: User }>('/api/auth/login', { method: 'POST', body: { email, password } });
      qc.setQueryData(['me'], res);
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
          <H3>Sign in to Marketgate</H3>
          {failure && (
            <Callout intent="danger" title="Sign-in did not work" role="alert" style={{ marginBottom: 12 }} data-testid="login-error">
              {failure}
            </Callout>
          )}
          {options.data?.microsoft && (
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
          <FormGroup label="E-mail" labelFor="email">
            <InputGroup id="email" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
          </FormGroup>
          <FormGroup label="Password" labelFor="password">
            <InputGroup id="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
          </FormGroup>
          {error !== null && <ErrorBox error={error} />}
          <Button type="submit" intent="primary" fill loading={busy} text="Sign in" style={{ marginTop: 8 }} />
        </Card>
      </form>
    </div>
  );
}
