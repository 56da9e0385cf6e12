import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import i18n from '../../shared/i18n';
import type { MyOrganisation, MySubscription } from '../../shared/api';
import { json, renderRoutes, type Call } from '../../shared/test/testutil';
import { CustomerApp } from './CustomerApp';
import { MySubscriptionPage, TABS } from './Subscription';
import { MySubscriptionsPage } from './Subscriptions';
import { OrganisationPage } from './Organisation';

afterEach(async () => {
  cleanup();
  vi.restoreAllMocks();
  await i18n.changeLanguage('en');
});

function sub(over: Omit<Partial<MySubscription>, 'status'> & { status?: Partial<MySubscription['status']> } = {}): MySubscription {
  const { status, ...rest } = over;
  return {
    id: 7,
    name: 'Contoso subscription',
    marketplace: 'azure',
    offer: 'Northwind Analytics',
    plan: 'Standard',
    quantity: 25,
    seats: { quantity: 25, assigned: 12 },
    term_start: '2026-11-01T00:00:00Z',
    term_end: '2027-10-31T00:00:00Z',
    renews_on: '2027-11-01T00:00:00Z',
    auto_renew: true,
    free_trial: false,
    purchaser: { email: 'buyer@contoso.example', tenant_id: 'tenant-p', aws_account_id: '' },
    beneficiary: { email: 'it@contoso.example', tenant_id: 'tenant-b', aws_account_id: '' },
    ...rest,
    status: {
      state: 'active',
      situation: 'active',
      actor: 'none',
      next_step: 'none',
      can_use: true,
      data_kept: false,
      since: '2026-11-01T09:00:00Z',
      ends_by: null,
      ...status,
    },
  };
}

const org: MyOrganisation = {
  name: 'Contoso',
  billing_contact: { name: '', email: '', phone: '' },
  technical_contact: { name: 'Tom', email: 'tom@contoso.example', phone: '' },
  aws_account_id: '',
  azure_tenant_id: 'tenant-b',
  updated_at: '2026-11-20T09:30:00Z',
};

function renderSubscription(s: MySubscription, url = '/subscriptions/7', extra?: (c: Call) => Response | undefined) {
  return renderRoutes(url, 'customer_admin', { '/subscriptions/:id': <MySubscriptionPage /> }, (c) => {
    const r = extra?.(c);
    if (r) return r;
    if (c.url === '/api/my/subscriptions/7') return json(200, { subscription: s });
    return json(404, { error: { code: 'not_found', message: 'no', request_id: 'r' } });
  });
}

// What the page says for each state, in English and in Japanese.
const cases: { name: string; s: MySubscription; en: RegExp[]; ja: RegExp[] }[] = [
  {
    name: 'suspended on Microsoft: payment, what to do, until when',
    s: sub({ status: { state: 'suspended', situation: 'suspended_payment', actor: 'buyer', next_step: 'update_payment', can_use: false, data_kept: true, ends_by: '2026-12-02T09:30:00Z' } }),
    en: [/Microsoft could not collect the payment/, /update the payment method in the Microsoft 365 admin centre/, /by December 2, 2026, Microsoft cancels the subscription/, /Who acts next: You/],
    ja: [/Microsoft がお支払いを回収できませんでした/, /お支払い方法を更新してください/, /2026年12月2日 までにお支払いが完了しない場合/, /次に対応する方: お客様/],
  },
  {
    name: 'pending on Microsoft, the provider activates',
    s: sub({ status: { state: 'pending', situation: 'pending_seller', actor: 'seller', next_step: 'wait', can_use: false } }),
    en: [/Your subscription is being set up/, /You do not need to do anything/, /Who acts next: The provider/],
    ja: [/サブスクリプションを準備しています/, /お客様の操作は不要です/, /次に対応する方: 提供元/],
  },
  {
    name: 'pending on Microsoft, the buyer confirms',
    s: sub({ status: { state: 'pending', situation: 'pending_buyer', actor: 'buyer', next_step: 'confirm_activation', can_use: false } }),
    en: [/Action needed: finish the setup/, /Configure account now/],
    ja: [/お手続きが必要です/, /今すぐアカウントを構成/],
  },
  {
    name: 'pending on AWS, the buyer finishes registration',
    s: sub({ marketplace: 'aws', status: { state: 'pending', situation: 'pending_buyer', actor: 'buyer', next_step: 'finish_registration', can_use: false } }),
    en: [/Finish your registration/],
    ja: [/登録を完了してください/],
  },
  {
    name: 'pending on AWS, AWS confirms',
    s: sub({ marketplace: 'aws', status: { state: 'pending', situation: 'pending_marketplace', actor: 'marketplace', next_step: 'wait', can_use: false } }),
    en: [/AWS Marketplace is confirming your subscription/, /Who acts next: AWS Marketplace/],
    ja: [/AWS Marketplace がサブスクリプションを確認しています/],
  },
  {
    name: 'active with renewal',
    s: sub(),
    en: [/Your users can use the product/, /renews automatically on November 1, 2027/],
    ja: [/ご利用いただけます/, /2027年11月1日 に自動更新されます/],
  },
  {
    name: 'unsubscribe pending on AWS',
    s: sub({ marketplace: 'aws', status: { state: 'unsubscribe_pending', situation: 'unsubscribe_pending', actor: 'marketplace', can_use: true, data_kept: true } }),
    en: [/cancelled on AWS Marketplace/, /usually within the hour/],
    ja: [/AWS Marketplace で解約されました/],
  },
  {
    name: 'ended',
    s: sub({ renews_on: null, status: { state: 'ended', situation: 'ended', next_step: 'contact_seller', can_use: false } }),
    en: [/This subscription has ended/, /data retention terms/],
    ja: [/このサブスクリプションは終了しました/, /データ保持規定/],
  },
  {
    name: 'failed on AWS',
    s: sub({ marketplace: 'aws', renews_on: null, status: { state: 'failed', situation: 'failed', actor: 'buyer', next_step: 'subscribe_again', can_use: false } }),
    en: [/The purchase did not go through/, /subscribe again on AWS Marketplace/],
    ja: [/ご購入が完了しませんでした/, /AWS Marketplace で改めてご購入ください/],
  },
];

describe('subscription page: the state in plain language', () => {
  for (const c of cases) {
    for (const lang of ['en', 'ja'] as const) {
      it(`${c.name} (${lang})`, async () => {
        await i18n.changeLanguage(lang);
        renderSubscription(c.s);
        const box = await screen.findByTestId('status-explanation');
        for (const re of c[lang]) expect(box.textContent).toMatch(re);
        // No key names, no internal codes.
        expect(box.textContent).not.toMatch(/status\.|suspended_payment|pending_buyer|azure\./);
        expect(document.querySelectorAll('h1')).toHaveLength(1);
      });
    }
  }

  it('shows offer, plan, seats, term, renewal, purchaser and beneficiary', async () => {
    renderSubscription(sub());
    const facts = await screen.findByTestId('subscription-facts');
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Northwind Analytics · Standard');
    expect(document.title).toBe('Northwind Analytics · Standard – Customer portal');
    expect(within(facts).getByTestId('fact-seats').textContent).toBe('25 bought, 12 assigned');
    expect(within(facts).getByTestId('fact-renewal').textContent).toBe('November 1, 2027');
    expect(within(facts).getByTestId('fact-purchaser').textContent).toContain('buyer@contoso.example');
    expect(within(facts).getByTestId('fact-beneficiary').textContent).toContain('it@contoso.example');
    expect(facts.textContent).toContain('November 1, 2026 – October 31, 2027');
  });

  it('an AWS subscription names the buyer account; a flat plan has no seats tab', async () => {
    const aws = sub({ marketplace: 'aws', seats: null, quantity: 0, purchaser: { email: '', tenant_id: '', aws_account_id: '123456789012' } });
    renderSubscription(aws);
    expect((await screen.findByTestId('fact-purchaser')).textContent).toBe('AWS account 123456789012');
    expect(screen.queryByRole('tab', { name: 'Seats' })).toBeNull();
    expect(screen.getByRole('tab', { name: 'Overview' })).toBeTruthy();
  });

  it('the tabs are a list others extend; the Seats tab reuses the seats feature', async () => {
    expect(TABS.map((t) => t.id)).toEqual(['overview', 'seats', 'usage', 'changes', 'permissions', 'agreement']);
    renderSubscription(sub(), '/subscriptions/7?tab=seats', (c) =>
      c.url.startsWith('/api/subscriptions/7/seats')
        ? json(200, {
            summary: { seat_based: true, bought: 25, assigned: 0, free: 25, over: 0, allow_over_assignment: false, over_quantity_policy: 'keep_all', auto_assign: false, usable: true, state: 'active', can_manage: true, more_seats: { text: '', url: '' } },
            items: [],
            total: 0,
          })
        : undefined,
    );
    await screen.findByRole('tab', { name: 'Seats', selected: true });
    await waitFor(() => expect(document.querySelector('[role=tabpanel]')?.textContent).toMatch(/25/));
  });

  it('another organisation’s subscription: a plain not-found, with a way back', async () => {
    renderRoutes('/subscriptions/9', 'customer_admin', { '/subscriptions/:id': <MySubscriptionPage /> }, () =>
      json(404, { error: { code: 'not_found', message: 'subscription 9 does not exist', request_id: 'req-9' } }),
    );
    expect((await screen.findByRole('alert')).textContent).toMatch(/does not exist, or it belongs to another organisation/);
    expect(screen.getByRole('link', { name: 'All subscriptions' })).toBeTruthy();
  });
});

describe('subscriptions list', () => {
  const items = [
    sub(),
    sub({ id: 8, marketplace: 'aws', offer: 'Northwind API', plan: 'Pay as you go', seats: null, quantity: 0, renews_on: null, status: { state: 'suspended', situation: 'suspended_payment' } }),
  ];
  for (const [lang, want] of [
    ['en', ['Active', 'Suspended', '12 of 25 assigned', 'Microsoft commercial marketplace', 'November 1, 2027', 'Does not renew']],
    ['ja', ['有効', '一時停止中', '25 席中 12 席を割り当て済み', 'Microsoft コマーシャル マーケットプレース', '2027年11月1日', '自動更新なし']],
  ] as const) {
    it(`shows offer, plan, marketplace, status, seats and renewal (${lang})`, async () => {
      await i18n.changeLanguage(lang);
      renderRoutes('/subscriptions', 'customer_admin', { '/subscriptions': <MySubscriptionsPage /> }, (c) =>
        c.url === '/api/my/subscriptions' ? json(200, { items }) : json(404, {}),
      );
      const rows = await screen.findAllByTestId('my-subscription-row');
      expect(rows).toHaveLength(2);
      const text = rows.map((r) => r.textContent).join('|');
      for (const w of want) expect(text).toContain(w);
      expect(text).toContain('Northwind API');
    });
  }
});

describe('organisation', () => {
  function renderOrg(put: (body: unknown) => Response) {
    let current = org;
    const calls = renderRoutes('/organisation', 'customer_admin', { '/organisation': <OrganisationPage /> }, (c) => {
      if (c.url === '/api/my/organisation' && c.method === 'GET') return json(200, { organisation: current });
      if (c.url === '/api/my/organisation' && c.method === 'PUT') {
        const r = put(JSON.parse(c.body));
        if (r.status === 200) current = { ...current, ...JSON.parse(c.body), updated_at: '2026-12-03T10:00:00Z' };
        return r;
      }
      return json(404, {});
    });
    return calls;
  }

  it('shows each field’s error under it (in Japanese too)', async () => {
    await i18n.changeLanguage('ja');
    renderOrg(() =>
      json(400, {
        error: {
          code: 'invalid_input',
          message: 'Check the 2 highlighted fields.',
          request_id: 'r1',
          fields: [
            { field: 'name', code: 'required', message: 'Enter a value.' },
            { field: 'billing_contact.email', code: 'invalid_email', message: 'Enter an e-mail address such as name@example.com.' },
          ],
        },
      }),
    );
    const name = await screen.findByLabelText('組織名');
    fireEvent.change(name, { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: '保存' }));
    await waitFor(() => expect(name.getAttribute('aria-invalid')).toBe('true'));
    expect(name.closest('.bp6-form-group')?.textContent).toContain('入力してください。');
    const billing = within(screen.getByTestId('fieldset-billing_contact')).getByLabelText('メールアドレス');
    expect(billing.getAttribute('aria-invalid')).toBe('true');
    expect(billing.closest('.bp6-form-group')?.textContent).toContain('name@example.com のような形式');
    expect(screen.getByTestId('organisation-error').textContent).toContain('情報を保存できませんでした');
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('組織情報');
  });

  it('saves, says so, and shows the stored information', async () => {
    const calls = renderOrg((body) => json(200, { organisation: { ...org, ...(body as object), name: 'Contoso Ltd', updated_at: '2026-12-03T10:00:00Z' } }));
    const billingEmail = within(await screen.findByTestId('fieldset-billing_contact')).getByLabelText('E-mail');
    fireEvent.change(screen.getByLabelText('Organisation name'), { target: { value: ' Contoso Ltd ' } });
    fireEvent.change(billingEmail, { target: { value: 'ap@contoso.example' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect((await screen.findByTestId('organisation-saved')).textContent).toBe("Your organisation's information was saved.");
    const put = calls.find((c) => c.method === 'PUT')!;
    expect(JSON.parse(put.body)).toEqual({
      name: ' Contoso Ltd ',
      billing_contact: { name: '', email: 'ap@contoso.example', phone: '' },
      technical_contact: { name: 'Tom', email: 'tom@contoso.example', phone: '' },
    });
    // The form shows what the server stored (trimmed).
    expect((screen.getByLabelText('Organisation name') as HTMLInputElement).value).toBe('Contoso Ltd');
    expect(document.title).toBe('Organisation – Customer portal');
  });
});

describe('the customer shell', () => {
  const me = { id: 1, email: 'it@contoso.example', name: 'Ida', role: 'customer_admin', customer_id: 3 } as never;
  function renderShell(url: string) {
    return renderRoutes(url, 'customer_admin', { '*': <CustomerApp user={me} onSignOut={() => {}} /> }, (c) => {
      if (c.url === '/api/my/subscriptions') return json(200, { items: [sub()] });
      if (c.url === '/api/my/organisation') return json(200, { organisation: org });
      return json(404, { error: { code: 'not_found', message: 'no', request_id: 'r' } });
    });
  }

  it('has its own navigation, the product and organisation, the user, sign-out, the language switch and a skip link', async () => {
    renderShell('/subscriptions');
    const nav = screen.getByRole('navigation', { name: 'Customer portal' });
    expect(within(nav).getAllByRole('link').map((a) => a.textContent)).toEqual(['Subscriptions', 'Organisation', 'Team']);
    expect(screen.queryByText('Metering')).toBeNull();
    expect(screen.queryByText('Settings')).toBeNull();
    await waitFor(() => expect(screen.getByTestId('portal-brand').textContent).toBe('Northwind Analytics'));
    expect((await screen.findByTestId('portal-organisation')).textContent).toBe('Contoso');
    expect(screen.getByTestId('current-user').textContent).toBe('Ida');
    expect(screen.getByRole('button', { name: 'Sign out' })).toBeTruthy();
    expect(screen.getByRole('combobox', { name: 'Language' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Skip to content' }).getAttribute('href')).toBe('#main');
    await screen.findAllByTestId('my-subscription-row');
    expect(document.querySelectorAll('h1')).toHaveLength(1);
    expect(document.title).toBe('Subscriptions – Customer portal');
  });

  it('switches to Japanese', async () => {
    renderShell('/subscriptions');
    await screen.findAllByTestId('my-subscription-row');
    fireEvent.change(screen.getByRole('combobox', { name: 'Language' }), { target: { value: 'ja' } });
    await waitFor(() => expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('サブスクリプション'));
    const nav = screen.getByRole('navigation', { name: 'カスタマーポータル' });
    expect(within(nav).getAllByRole('link').map((a) => a.textContent)).toEqual(['サブスクリプション', '組織情報', 'チーム']);
    expect(document.title).toBe('サブスクリプション – カスタマーポータル');
  });

  it('an unknown page says so and leads back', async () => {
    renderShell('/metering');
    expect((await screen.findByRole('heading', { level: 1 })).textContent).toBe('Page not found');
    expect(screen.getByRole('link', { name: 'Back to your subscriptions' })).toBeTruthy();
  });
});
