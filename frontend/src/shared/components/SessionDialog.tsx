// SessionGuard: when the session ends while a page is open (it expired, or
// was signed out elsewhere), a sign-in dialog opens over the page instead
// of leaving it. What was typed on the page stays; the refused call is sent
// again once signed in. "Sign out" gives up and goes to the sign-in page.
import { useEffect, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Button, Dialog, DialogBody, DialogFooter, FormGroup, InputGroup } from '@blueprintjs/core';
import { api, queryKeys, setReauthenticateHandler } from '../api';
import { ErrorBox } from './components';

export function SessionGuard({ email }: { email: string }) {
  const [resolve, setResolve] = useState<((ok: boolean) => void) | null>(null);
  useEffect(() => {
    setReauthenticateHandler(() => new Promise<boolean>((r) => setResolve(() => r)));
    return () => setReauthenticateHandler(null);
  }, []);
  if (!resolve) return null;
  const done = (ok: boolean) => {
    setResolve(null);
    resolve(ok);
  };
  return <SessionDialog email={email} onDone={done} />;
}

export function SessionDialog({ email, onDone }: { email: string; onDone: (signedIn: boolean) => void }) {
  const qc = useQueryClient();
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [secondStep, setSecondStep] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = secondStep ? await api.auth.loginTwoFactor({ code }) : await api.auth.login(email, password);
      if (res.two_factor_required) {
        setSecondStep(true);
        setPassword('');
        return;
      }
      qc.setQueryData(queryKeys.me, res);
      onDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog isOpen title="Your session has ended" isCloseButtonShown={false} data-testid="session-dialog">
      <form onSubmit={submit} aria-label="Sign in again">
        <DialogBody>
          <p>
            Sign in again as <strong>{email}</strong> to carry on. This page stays as it is: what you typed is kept, and what you were doing is sent
            once you are signed in.
          </p>
          {secondStep ? (
            <FormGroup label="Code from your authenticator app" labelFor="session-code">
              <InputGroup id="session-code" value={code} onValueChange={setCode} autoComplete="one-time-code" autoFocus />
            </FormGroup>
          ) : (
            <FormGroup label="Password" labelFor="session-password">
              <InputGroup id="session-password" type="password" value={password} onValueChange={setPassword} autoComplete="current-password" autoFocus />
            </FormGroup>
          )}
          {error !== null && <ErrorBox error={error} />}
        </DialogBody>
        <DialogFooter
          actions={
            <>
              <Button text="Sign out" onClick={() => onDone(false)} />
              <Button type="submit" intent="primary" text="Sign in" loading={busy} disabled={secondStep ? !code.trim() : !password} />
            </>
          }
        />
      </form>
    </Dialog>
  );
}
