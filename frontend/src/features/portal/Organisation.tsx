// The organisation's registration information, which a customer admin
// corrects: its name, and a billing and a technical contact. The server
// checks every field; each problem shows under its field.
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Callout, FormGroup, InputGroup, Spinner } from '@blueprintjs/core';
import { useTranslation } from 'react-i18next';
import { api, ApiError, queryKeys, type MyOrganisation, type MyOrganisationInput } from '../../shared/api';
import { formatDateTime } from '../../shared/i18n';
import { PageTitle, PortalError } from './common';

const organisationQuery = { queryKey: queryKeys.my.organisation, queryFn: () => api.my.organisation() };

export function OrganisationPage() {
  const { t } = useTranslation('portal');
  const q = useQuery(organisationQuery);
  return (
    <div>
      <PageTitle>{t('organisation.title')}</PageTitle>
      <p className="mg-portal-intro">{t('organisation.intro')}</p>
      {q.isPending && <Spinner size={24} aria-label={t('common:loading')} />}
      {q.isError && <PortalError error={q.error} onRetry={() => void q.refetch()} />}
      {q.isSuccess && <OrganisationForm org={q.data.organisation} />}
    </div>
  );
}

function inputOf(o: MyOrganisation): MyOrganisationInput {
  return { name: o.name, billing_contact: { ...o.billing_contact }, technical_contact: { ...o.technical_contact } };
}

type ContactKey = 'billing_contact' | 'technical_contact';

function OrganisationForm({ org }: { org: MyOrganisation }) {
  const { t } = useTranslation('portal');
  const qc = useQueryClient();
  const [form, setForm] = useState<MyOrganisationInput>(() => inputOf(org));
  const [saved, setSaved] = useState(false);
  const save = useMutation({
    mutationFn: (body: MyOrganisationInput) => api.my.saveOrganisation(body),
    onSuccess: async (r) => {
      // The form shows what was stored (trimmed), and the page's data is fresh.
      setForm(inputOf(r.organisation));
      setSaved(true);
      qc.setQueryData(queryKeys.my.organisation, r);
      // The organisation's name shows in the shell and on other pages.
      await qc.invalidateQueries({ queryKey: queryKeys.my.all });
    },
  });
  const fieldErrors = save.error instanceof ApiError ? save.error.fields : [];
  const errorOf = (field: string) => {
    const f = fieldErrors.find((e) => e.field === field);
    return f ? t(`organisation.fieldError.${f.code}`, { defaultValue: f.message }) : undefined;
  };
  const setContact = (c: ContactKey, k: 'name' | 'email' | 'phone', v: string) => {
    setSaved(false);
    setForm((f) => ({ ...f, [c]: { ...f[c], [k]: v } }));
  };
  const field = (id: string, label: string, value: string, onChange: (v: string) => void, type = 'text', autoComplete?: string) => {
    const err = errorOf(id);
    const domId = 'org-' + id.replace('.', '-');
    return (
      <FormGroup label={label} labelFor={domId} intent={err ? 'danger' : 'none'} helperText={err} key={id}>
        <InputGroup
          id={domId}
          name={id}
          type={type}
          value={value}
          autoComplete={autoComplete}
          intent={err ? 'danger' : 'none'}
          aria-invalid={err ? true : undefined}
          onChange={(e) => onChange(e.target.value)}
        />
      </FormGroup>
    );
  };
  const contact = (c: ContactKey, legend: string) => (
    <fieldset className="mg-portal-fieldset" data-testid={'fieldset-' + c}>
      <legend>{legend}</legend>
      {field(`${c}.name`, t('organisation.contactName'), form[c].name, (v) => setContact(c, 'name', v), 'text', 'name')}
      {field(`${c}.email`, t('organisation.contactEmail'), form[c].email, (v) => setContact(c, 'email', v), 'email', 'email')}
      {field(`${c}.phone`, t('organisation.contactPhone'), form[c].phone, (v) => setContact(c, 'phone', v), 'tel', 'tel')}
    </fieldset>
  );
  return (
    <form
      className="mg-portal-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        setSaved(false);
        save.mutate(form);
      }}
    >
      {field('name', t('organisation.name'), form.name, (v) => {
        setSaved(false);
        setForm((f) => ({ ...f, name: v }));
      }, 'text', 'organization')}
      {contact('billing_contact', t('organisation.billing'))}
      {contact('technical_contact', t('organisation.technical'))}
      {(org.aws_account_id || org.azure_tenant_id) && (
        <dl className="mg-grid" aria-label={t('organisation.identities')}>
          {org.aws_account_id && (
            <>
              <dt>{t('organisation.awsAccount')}</dt>
              <dd>{org.aws_account_id}</dd>
            </>
          )}
          {org.azure_tenant_id && (
            <>
              <dt>{t('organisation.tenant')}</dt>
              <dd>{org.azure_tenant_id}</dd>
            </>
          )}
        </dl>
      )}
      <div role="status" aria-live="polite">
        {saved && (
          <Callout intent="success" icon="tick" data-testid="organisation-saved">
            {t('organisation.saved')}
          </Callout>
        )}
      </div>
      {save.isError && (
        <Callout intent="danger" role="alert" title={t('organisation.failed')} data-testid="organisation-error">
          {fieldErrors.length === 0 && save.error instanceof Error ? save.error.message : null}
        </Callout>
      )}
      <div className="mg-portal-actions">
        <Button type="submit" intent="primary" loading={save.isPending} text={t('organisation.save')} />
        <span className="mg-portal-muted">{t('organisation.lastUpdated', { date: formatDateTime(org.updated_at) })}</span>
      </div>
    </form>
  );
}
