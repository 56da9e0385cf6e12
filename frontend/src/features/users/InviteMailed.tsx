// InviteMailed: says that an invitation's link went out by e-mail (the
// server mails it when SMTP is set up); the link stays shown to copy.
import { Callout } from '@blueprintjs/core';
import { useTranslation } from 'react-i18next';

export function InviteMailed({ email, emailed }: { email: string; emailed: boolean }) {
  const { t } = useTranslation('branding');
  if (!emailed) return null;
  return (
    <Callout intent="primary" icon="envelope" data-testid="invite-mailed" style={{ marginBottom: 8 }}>
      <strong>{t('inviteMailed', { email })}</strong> {t('inviteMailedCopy')}
    </Callout>
  );
}
