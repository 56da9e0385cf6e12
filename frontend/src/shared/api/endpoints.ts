// Every endpoint of the portal API the portal calls, as a typed function.
// Features call these (and the URL builders for downloads) instead of
// spelling URLs; the answer and request types live in types.ts.
import { query, request } from './client';
import type {
  AgreementPage,
  RenewalItem,
  AgreementMoney,
  AgreementRequestAnswer,
  CancellationInput,
  MyAgreement,
  PaymentInput,
  RefundInput,
  WithdrawInput,
  MyOrganisation,
  MyOrganisationInput,
  MySubscription,
  MySubscriptionList,
  AdminConsent,
  AdminInvite,
  AlertChannel,
  AlertChannelKind,
  AlertChannelList,
  AlertItem,
  ApiKey,
  AuthOptions,
  AvailablePlan,
  AzureOperation,
  ChangeAnswer,
  ChangeInput,
  ChangeOptions,
  ChangeRequestList,
  ConsentPermissions,
  CustomerAdmins,
  CustomerDetail,
  Dashboard,
  InboxMessage,
  LoginAnswer,
  MeteringHealth,
  MeteringRecordList,
  OfferFull,
  SubscriptionList,
  CustomerList,
  InboxList,
  AuditPage,
  Plan,
  PlanFull,
  PlanSeatPolicies,
  ReconcileReport,
  Role,
  Seat,
  SeatImportResult,
  SeatList,
  SeatSummary,
  SecuritySettings,
  Subscription,
  SubscriptionDetail,
  SubscriptionRaw,
  SystemInfo,
  SetupReport,
  TwoFactorSetup,
  UsageParams,
  UsageSeries,
  User,
  UserInvite,
  WebhookDelivery,
  WebhookDeliveryPage,
  WebhookEndpoint,
  WebhookList,
} from './types';
import type { AnswerOf } from './types';

type Params = Record<string, string | number | undefined | null>;
const post = <T>(path: string, body?: unknown) => request<T>(path, { method: 'POST', body });
const patch = <T>(path: string, body: unknown) => request<T>(path, { method: 'PATCH', body });
const del = <T = undefined>(path: string) => request<T>(path, { method: 'DELETE' });

// ---- sign-in, the signed-in user, two-factor ----

export const auth = {
  me: () => request<AnswerOf<'/api/auth/me', 'get'>>('/api/auth/me'),
  options: () => request<AuthOptions>('/api/auth/options'),
  login: (email: string, password: string) => post<LoginAnswer>('/api/auth/login', { email, password }),
  /** The second step: a code of the authenticator app, or a recovery code. */
  loginTwoFactor: (body: { code: string } | { recovery_code: string }) => post<LoginAnswer>('/api/auth/login/2fa', body),
  logout: () => post<undefined>('/api/auth/logout'),
  changePassword: (current_password: string, new_password: string) => post<undefined>('/api/auth/password', { current_password, new_password }),
  twoFactorSetup: (current_password: string) => post<TwoFactorSetup>('/api/auth/2fa/setup', { current_password }),
  twoFactorEnable: (code: string) => post<{ recovery_codes: string[] }>('/api/auth/2fa/enable', { code }),
  twoFactorDisable: (current_password: string) => post<undefined>('/api/auth/2fa/disable', { current_password }),
  recoveryCodes: (current_password: string) => post<{ recovery_codes: string[] }>('/api/auth/2fa/recovery-codes', { current_password }),
};

export const security = {
  get: () => request<SecuritySettings>('/api/security'),
  setRequireTwoFactor: (require_two_factor: boolean) => request<SecuritySettings>('/api/security', { method: 'PUT', body: { require_two_factor } }),
};

// ---- subscriptions ----

export const subscriptions = {
  list: (params: Params) => request<SubscriptionList>('/api/subscriptions' + query(params)),
  /** The CSV download of a filtered, sorted list. */
  csvUrl: (params: Params) => '/api/subscriptions' + query({ ...params, format: 'csv' }),
  get: (id: number | string) => request<SubscriptionDetail>('/api/subscriptions/' + id),
  raw: (id: number | string) => request<SubscriptionRaw>(`/api/subscriptions/${id}/raw`),
  azurePlans: (id: number | string) => request<{ plans: AvailablePlan[] }>(`/api/subscriptions/${id}/azure/plans`),
  azureChange: (id: number, body: { action: string; plan_id?: string; quantity?: number }) =>
    post<{ operation: AzureOperation }>(`/api/subscriptions/${id}/azure/change`, body),
  azureActivate: (id: number) => post<{ subscription: Subscription }>(`/api/subscriptions/${id}/azure/activate`),
  /** The usage report: per dimension, every hour or day of [from, to) (default: the current calendar month, UTC). */
  usage: (id: number | string, params: UsageParams) => request<UsageSeries>(`/api/subscriptions/${id}/usage` + query({ ...params })),
  /** The same usage report as a CSV download. */
  usageCsvUrl: (id: number | string, params: UsageParams) => `/api/subscriptions/${id}/usage` + query({ ...params, format: 'csv' }),
};

// ---- seats of a per-user subscription ----

export const seats = {
  list: (subscriptionId: number | string, params: Params) => request<SeatList>(`/api/subscriptions/${subscriptionId}/seats` + query(params)),
  assign: (subscriptionId: number | string, body: { user: string; name: string }) =>
    post<{ seat: Seat; summary: SeatSummary }>(`/api/subscriptions/${subscriptionId}/seats`, body),
  release: (subscriptionId: number | string, seatId: number) => del<{ summary: SeatSummary }>(`/api/subscriptions/${subscriptionId}/seats/${seatId}`),
  releaseMany: (subscriptionId: number | string, ids: number[]) =>
    post<{ released: number; summary: SeatSummary }>(`/api/subscriptions/${subscriptionId}/seats/release`, { ids }),
  /** A CSV import: previewed (apply false) or applied. */
  import: (subscriptionId: number | string, csv: string, mode: string, apply: boolean) =>
    request<SeatImportResult>(`/api/subscriptions/${subscriptionId}/seats/import` + query({ mode, apply: String(apply) }), {
      method: 'POST',
      body: csv,
      contentType: 'text/csv',
    }),
  exportUrl: (subscriptionId: number | string) => `/api/subscriptions/${subscriptionId}/seats/export`,
};

// ---- dashboard, system ----

export const dashboard = { get: () => request<Dashboard>('/api/dashboard') };

/** The go-live checks, run live on every call (admins only). */
export const setup = { get: () => request<SetupReport>('/api/setup') };

export const system = {
  get: () => request<SystemInfo>('/api/system'),
  reconcileAzure: () => post<{ report: ReconcileReport }>('/api/azure/reconcile'),
};

// ---- customers and their admins ----

export const customers = {
  list: (params: Params) => request<CustomerList>('/api/customers' + query(params)),
  get: (id: number | string) => request<{ customer: CustomerDetail; consent?: AdminConsent | null }>(`/api/customers/${id}`),
};

export const customerAdmins = {
  /** A seller staff member names the organisation; a customer admin gets their own. */
  list: (customerId?: number | string) => request<CustomerAdmins>('/api/customer-admins' + query({ customer_id: customerId })),
  invite: (body: { email: string; customer_id?: number; language?: 'en' | 'ja' }) =>
    post<{ invite: AdminInvite; url: string; emailed: boolean }>('/api/customer-admins/invites', body),
  revokeInvite: (inviteId: number) => post<{ invite: AdminInvite }>(`/api/customer-admins/invites/${inviteId}/revoke`),
};

// ---- offers and plans ----

export const offers = {
  list: () => request<{ items: OfferFull[] }>('/api/offers'),
  create: (body: Record<string, unknown>) => post<{ offer: OfferFull }>('/api/offers', body),
  update: (id: number, body: Record<string, unknown>) => patch<{ offer: OfferFull }>('/api/offers/' + id, body),
  createPlan: (offerId: number, body: Record<string, unknown>) => post<{ plan: PlanFull }>(`/api/offers/${offerId}/plans`, body),
  updatePlan: (planId: number, body: Record<string, unknown>) => patch<{ plan: PlanFull }>('/api/plans/' + planId, body),
  updatePlanSeats: (planId: number, body: Partial<PlanSeatPolicies>) => patch<{ plan: Plan }>(`/api/plans/${planId}/seats`, body),
};

// ---- metering ----

export const metering = {
  health: () => request<{ health: MeteringHealth }>('/api/metering/health'),
  /** The filters go as the Metering page keeps them in its URL. */
  records: (params: URLSearchParams) => request<MeteringRecordList>('/api/metering/records?' + params.toString()),
  recordsCsvUrl: (filters: URLSearchParams) => '/api/metering/records?' + filters.toString() + (filters.size ? '&' : '') + 'format=csv',
  retry: (ids: number[]) => post<{ retried: number }>('/api/metering/records/retry', { ids }),
  enterUsage: (body: { subscription_id: number; dimension: string; quantity: number; timestamp?: string }) => post<unknown>('/api/metering/usage', body),
};

// ---- inbound marketplace messages (the inbox) ----

export const inbox = {
  list: (params: Params) => request<InboxList>('/api/inbox' + query(params)),
  get: (id: number | string) => request<{ message: InboxMessage }>('/api/inbox/' + id),
  replay: (id: number | string) => post<{ message: InboxMessage }>(`/api/inbox/${id}/replay`),
};

// ---- seller staff ----

export const users = {
  list: () => request<{ items: User[] }>('/api/users'),
  create: (body: { email: string; name: string; role: Exclude<Role, 'customer_admin'> }) => post<{ user: User; password: string }>('/api/users', body),
  update: (id: number, change: { role: Role } | { disabled: boolean }) => patch<{ user: User }>('/api/users/' + id, change),
  resetPassword: (id: number) => post<{ user: User; password: string }>(`/api/users/${id}/reset-password`),
  resetTwoFactor: (id: number) => post<{ user: User }>(`/api/users/${id}/reset-2fa`),
  invites: () => request<{ items: UserInvite[] }>('/api/users/invites'),
  invite: (body: { email: string; name?: string; role: Exclude<Role, 'customer_admin'>; language?: 'en' | 'ja' }) =>
    post<{ invite: UserInvite; url: string; emailed: boolean }>('/api/users/invites', body),
  revokeInvite: (id: number) => post<{ invite: UserInvite }>(`/api/users/invites/${id}/revoke`),
};

// ---- API keys, audit log ----

export const apiKeys = {
  list: () => request<{ items: ApiKey[]; scopes: string[] }>('/api/apikeys'),
  create: (name: string, scopes: string[]) => post<{ key: string }>('/api/apikeys', { name, scopes }),
  revoke: (id: number) => post<undefined>(`/api/apikeys/${id}/revoke`),
};

export const audit = {
  list: (params: Params) => request<AuditPage>('/api/audit' + query(params)),
  csvUrl: (params: Params) => '/api/audit' + query({ ...params, format: 'csv' }),
};

// ---- the seller's outbound webhook endpoints ----

export const webhooks = {
  list: () => request<WebhookList>('/api/webhooks'),
  create: (body: { url: string; description: string; event_types: string[] }) => post<{ endpoint: WebhookEndpoint; secret?: string }>('/api/webhooks', body),
  update: (id: number, body: { url?: string; description?: string; event_types?: string[]; enabled?: boolean }) =>
    patch<{ endpoint: WebhookEndpoint; secret?: string }>(`/api/webhooks/${id}`, body),
  rotateSecret: (id: number) => post<{ endpoint: WebhookEndpoint; secret: string }>(`/api/webhooks/${id}/rotate-secret`),
  remove: (id: number) => del(`/api/webhooks/${id}`),
  deliveries: (id: number | string, params: Params) => request<WebhookDeliveryPage>(`/api/webhooks/${id}/deliveries` + query(params)),
  sendTest: (id: number | string) => post<{ delivery: WebhookDelivery }>(`/api/webhooks/${id}/test`),
  redeliver: (endpointId: number | string, deliveryId: number) => post<{ delivery: WebhookDelivery }>(`/api/webhooks/${endpointId}/deliveries/${deliveryId}/redeliver`),
};

// ---- alert channels and recent alerts ----

export const alerts = {
  channels: () => request<AlertChannelList>('/api/alerts/channels'),
  createChannel: (body: { kind: AlertChannelKind; name: string; target: string; alert_types: string[] }) =>
    post<{ channel: AlertChannel }>('/api/alerts/channels', body),
  updateChannel: (id: number, body: { name?: string; target?: string; alert_types?: string[]; enabled?: boolean }) =>
    patch<{ channel: AlertChannel }>(`/api/alerts/channels/${id}`, body),
  removeChannel: (id: number) => del(`/api/alerts/channels/${id}`),
  testChannel: (id: number) => post<{ sent: boolean }>(`/api/alerts/channels/${id}/test`),
  recent: (limit: number) => request<{ items: AlertItem[] }>('/api/alerts' + query({ limit })),
};

// ---- customer-initiated changes (plan, seats, unsubscribe) ----

export const changes = {
  /** What a customer admin may change of their subscription now, and their requests. */
  options: (subscriptionId: number | string) => request<ChangeOptions>(`/api/my/subscriptions/${subscriptionId}/changes`),
  /** A retry with the same idempotency key answers the first submission. */
  submit: (subscriptionId: number | string, body: ChangeInput, idempotencyKey: string) =>
    request<ChangeAnswer>(`/api/my/subscriptions/${subscriptionId}/changes`, { method: 'POST', body, headers: { 'Idempotency-Key': idempotencyKey } }),
  /** The seller's queue. */
  list: (params: Params) => request<ChangeRequestList>('/api/change-requests' + query(params)),
  approve: (id: number, note: string) => post<ChangeAnswer>(`/api/change-requests/${id}/approve`, { note }),
  decline: (id: number, reason: string) => post<ChangeAnswer>(`/api/change-requests/${id}/decline`, { reason }),
};

// ---- the customer portal: a customer admin's own subscriptions and organisation ----

export const my = {
  subscriptions: () => request<MySubscriptionList>('/api/my/subscriptions'),
  subscription: (id: number | string) => request<{ subscription: MySubscription }>(`/api/my/subscriptions/${id}`),
  organisation: () => request<{ organisation: MyOrganisation }>('/api/my/organisation'),
  saveOrganisation: (body: MyOrganisationInput) => request<{ organisation: MyOrganisation }>('/api/my/organisation', { method: 'PUT', body }),
};

// ---- the customer portal: Entra admin consent ----

export const consent = {
  /** What the subscription's offer asks for, why, and the tenant's consent. */
  permissions: (subscriptionId: number) => request<ConsentPermissions>(`/api/my/subscriptions/${subscriptionId}/permissions`),
  /** Starts Entra's admin consent: send the browser to redirect_url. */
  grant: (subscriptionId: number) => post<{ redirect_url: string }>(`/api/my/subscriptions/${subscriptionId}/permissions/grant`),
};

// ---- AWS agreements: an AWS subscription's agreement, and renewals ----

export const agreements = {
  /** AWS's description of the subscription's current agreement (cached; refresh reads AWS again). */
  ofSubscription: (subscriptionId: number | string, refresh = false) =>
    request<AgreementPage>(`/api/subscriptions/${subscriptionId}/agreement` + query({ refresh: refresh ? 'true' : undefined })),
  /** Agreements by end date: window in days ahead, all, or only those with auto-renewal off. */
  renewals: (params: { window?: number; all?: boolean; auto_renew_off?: boolean }) =>
    request<{ items: RenewalItem[] }>(
      '/api/renewals' + query({ window: params.all ? undefined : params.window, all: params.all ? 'true' : undefined, auto_renew_off: params.auto_renew_off ? 'true' : undefined }),
    ),
};

// ---- AWS agreement money (admins act; staff read; customer admins read their own) ----

const moneyPath = (subscriptionId: number | string) => `/api/subscriptions/${subscriptionId}/agreement`;
const moneyPost = <B>(path: string, body: B, idempotencyKey?: string) =>
  request<AgreementRequestAnswer>(path, { method: 'POST', body, headers: idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : undefined });

export const agreementMoney = {
  get: (subscriptionId: number | string) => request<AgreementMoney>(`${moneyPath(subscriptionId)}/money`),
  refund: (subscriptionId: number | string, body: RefundInput, key: string) => moneyPost(`${moneyPath(subscriptionId)}/refunds`, body, key),
  cancel: (subscriptionId: number | string, body: CancellationInput, key: string) => moneyPost(`${moneyPath(subscriptionId)}/cancellation-requests`, body, key),
  pay: (subscriptionId: number | string, body: PaymentInput, key: string) => moneyPost(`${moneyPath(subscriptionId)}/payment-requests`, body, key),
  withdraw: (subscriptionId: number | string, requestId: number, body: WithdrawInput) => moneyPost(`${moneyPath(subscriptionId)}/requests/${requestId}/withdraw`, body),
  refresh: (subscriptionId: number | string, requestId: number) => post<AgreementRequestAnswer>(`${moneyPath(subscriptionId)}/requests/${requestId}/refresh`),
  /** The customer admin's own agreement, read-only. */
  mine: (subscriptionId: number | string) => request<MyAgreement>(`/api/my/subscriptions/${subscriptionId}/agreement`),
};
