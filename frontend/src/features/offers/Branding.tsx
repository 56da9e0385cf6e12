// The seller's branding of an offer's buyer-facing pages (welcome,
// onboarding, invitation): product name, logo, accent colour, support
// contact and getting-started links. The server validates everything again
// (https links only, a small raster image, #rrggbb) and answers a stable
// code per problem, shown here in the user's language.
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Button, Callout, Dialog, DialogBody, DialogFooter, FileInput, FormGroup, InputGroup } from '@blueprintjs/core';
import { api, queryKeys, ApiError, type OfferFull } from '../../shared/api';

type Branding = OfferFull['branding'];
type Link = Branding['getting_started'][number];

const MAX_LINKS = 5;
const MAX_LOGO_BYTES = 48 << 10;
const ACCENT = /^#[0-9a-fA-F]{6}$/;

/** The "Buyer pages…" button of an offer (admins), with its dialog. */
export function BrandingButton({ offer }: { offer: OfferFull }) {
  const { t } = useTranslation('branding');
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button small minimal icon="style" text={t('button')} onClick={() => setOpen(true)} />
      {open && <BrandingDialog offer={offer} onClose={() => setOpen(false)} />}
    </>
  );
}

export function BrandingDialog({ offer, onClose }: { offer: OfferFull; onClose: () => void }) {
  const { t } = useTranslation('branding');
  const qc = useQueryClient();
  const [b, setB] = useState<Branding>({ ...offer.branding, getting_started: [...offer.branding.getting_started] });
  const [logoProblem, setLogoProblem] = useState('');
  const set = (patch: Partial<Branding>) => setB((old) => ({ ...old, ...patch }));
  const setLink = (i: number, patch: Partial<Link>) =>
    set({ getting_started: b.getting_started.map((l, j) => (j === i ? { ...l, ...patch } : l)) });
  const save = useMutation({
    mutationFn: () => api.offers.update(offer.id, { branding: b }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.offers });
      onClose();
    },
  });
  const problem =
    save.error instanceof ApiError && save.error.code.startsWith('branding_')
      ? t(`errors.${save.error.code}`)
      : save.error
        ? (save.error as Error).message
        : '';
  const upload = (file: File | undefined) => {
    setLogoProblem('');
    if (!file) return;
    if (file.size > MAX_LOGO_BYTES) {
      setLogoProblem(t('logoTooLarge'));
      return;
    }
    const r = new FileReader();
    r.onload = () => set({ logo_url: String(r.result) });
    r.readAsDataURL(file);
  };
  const accent = ACCENT.test(b.accent_color) ? b.accent_color : '#2d72d2';
  return (
    <Dialog isOpen onClose={onClose} title={t('title', { offer: offer.name })} style={{ width: 680 }}>
      <form
        aria-label={t('title', { offer: offer.name })}
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <DialogBody>
          <p>{t('intro')}</p>
          <FormGroup label={t('productName')} labelFor="brand-name" helperText={t('productNameHelp')}>
            <InputGroup id="brand-name" value={b.product_name} placeholder={offer.name} maxLength={200} onValueChange={(v) => set({ product_name: v })} />
          </FormGroup>
          <FormGroup label={t('logo')} labelFor="brand-logo" helperText={logoProblem || t('logoHelp')} intent={logoProblem ? 'danger' : 'none'}>
            <div style={{ display: 'flex', gap: 8 }}>
              <InputGroup
                id="brand-logo"
                fill
                value={b.logo_url.startsWith('data:') ? '' : b.logo_url}
                placeholder={b.logo_url.startsWith('data:') ? t('upload') : 'https://'}
                onValueChange={(v) => set({ logo_url: v })}
              />
              <FileInput
                text={t('upload')}
                inputProps={{ accept: 'image/png,image/jpeg,image/gif,image/webp', 'aria-label': t('upload') }}
                onInputChange={(e) => upload(e.currentTarget.files?.[0])}
              />
              {b.logo_url && <Button icon="trash" aria-label={t('removeLogo')} title={t('removeLogo')} onClick={() => set({ logo_url: '' })} />}
            </div>
          </FormGroup>
          <FormGroup label={t('accent')} labelFor="brand-accent" helperText={t('accentHelp')}>
            <div style={{ display: 'flex', gap: 8, alignItems: 'center' }}>
              <input type="color" aria-label={t('accent')} value={accent} onChange={(e) => set({ accent_color: e.currentTarget.value })} />
              <InputGroup id="brand-accent" value={b.accent_color} placeholder="#2d72d2" maxLength={7} onValueChange={(v) => set({ accent_color: v })} />
            </div>
          </FormGroup>
          <div style={{ display: 'flex', gap: 12 }}>
            <FormGroup label={t('supportEmail')} labelFor="brand-support-email" style={{ flex: 1 }}>
              <InputGroup id="brand-support-email" type="email" value={b.support_email} onValueChange={(v) => set({ support_email: v })} />
            </FormGroup>
            <FormGroup label={t('supportUrl')} labelFor="brand-support-url" style={{ flex: 1 }}>
              <InputGroup id="brand-support-url" value={b.support_url} placeholder="https://" onValueChange={(v) => set({ support_url: v })} />
            </FormGroup>
          </div>
          <FormGroup label={t('links')} helperText={t('linksHelp', { max: MAX_LINKS })}>
            {b.getting_started.map((l, i) => (
              <div key={i} style={{ display: 'flex', gap: 8, marginBottom: 6 }}>
                <InputGroup aria-label={`${t('linkTitle')} ${i + 1}`} placeholder={t('linkTitle')} value={l.title} maxLength={200} onValueChange={(v) => setLink(i, { title: v })} />
                <InputGroup aria-label={`${t('linkUrl')} ${i + 1}`} placeholder="https://" fill value={l.url} onValueChange={(v) => setLink(i, { url: v })} />
                <Button
                  icon="cross"
                  aria-label={t('removeLink', { n: i + 1 })}
                  title={t('removeLink', { n: i + 1 })}
                  onClick={() => set({ getting_started: b.getting_started.filter((_, j) => j !== i) })}
                />
              </div>
            ))}
            {b.getting_started.length < MAX_LINKS && (
              <Button small icon="add" text={t('addLink')} onClick={() => set({ getting_started: [...b.getting_started, { title: '', url: '' }] })} />
            )}
          </FormGroup>
          <FormGroup label={t('preview')}>
            <div data-testid="branding-preview" style={{ border: '1px solid #d3d8de', borderRadius: 4, padding: 10 }}>
              <div style={{ display: 'flex', alignItems: 'center', gap: 8, borderBottom: `3px solid ${accent}`, paddingBottom: 6 }}>
                {b.logo_url && <img src={b.logo_url} alt="" style={{ maxHeight: 32, maxWidth: 120 }} />}
                <strong>{b.product_name || offer.name}</strong>
              </div>
              <span style={{ display: 'inline-block', marginTop: 8, padding: '4px 10px', borderRadius: 4, background: accent, color: '#fff' }}>
                {t('previewButton')}
              </span>
            </div>
          </FormGroup>
          {problem && (
            <Callout intent="danger" role="alert">
              {problem}
            </Callout>
          )}
        </DialogBody>
        <DialogFooter
          actions={
            <>
              <Button text={t('cancel')} onClick={onClose} />
              <Button type="submit" intent="primary" text={t('save')} loading={save.isPending} />
            </>
          }
        />
      </form>
    </Dialog>
  );
}
