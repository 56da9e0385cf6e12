// The one query-key factory: every useQuery and every invalidation names its
// data through these, so two screens showing the same thing share its cache
// entry and an invalidation reaches every query it means. A prefix (all:,
// or a key without its trailing parts) invalidates the whole family.
//
// Ids are keys as strings: a route parameter ("12") and a number (12) name
// the same subscription.

type Id = number | string;
const id = (v: Id) => String(v);

export const queryKeys = {
  me: ['me'] as const,
  authOptions: ['auth-options'] as const,
  security: ['security'] as const,
  dashboard: ['dashboard'] as const,
  system: ['system'] as const,
  setup: ['setup'] as const,

  subscriptions: {
    all: ['subscriptions'] as const,
    list: (filters: Record<string, string>, sort: string) => ['subscriptions', filters, sort] as const,
    ofCustomer: (customerId: Id, state: string, offset: number) => ['subscriptions', 'customer', id(customerId), state, offset] as const,
  },
  /** One subscription's page (GET /api/subscriptions/:id). */
  subscription: {
    all: ['subscription'] as const,
    detail: (subscriptionId: Id) => ['subscription', id(subscriptionId)] as const,
    raw: (subscriptionId: Id) => ['subscription-raw', id(subscriptionId)] as const,
    azurePlans: (subscriptionId: Id) => ['azure-plans', id(subscriptionId)] as const,
    usage: (subscriptionId: Id, selection: string) => ['usage', id(subscriptionId), selection] as const,
    /** The customer portal's permissions tab (Entra admin consent). */
    permissions: (subscriptionId: Id) => ['subscription-permissions', id(subscriptionId)] as const,
  },
  usage: { all: ['usage'] as const },
  /** AWS agreements: one subscription's agreement page, and the renewals list. */
  agreements: {
    of: (subscriptionId: Id) => ['agreement', id(subscriptionId)] as const,
    renewals: (filter: string) => ['renewals', filter] as const,
  },
  /** An AWS subscription's agreement money (seller) and the customer's read-only view. */
  agreementMoney: {
    all: ['agreement-money'] as const,
    of: (subscriptionId: Id) => ['agreement-money', id(subscriptionId)] as const,
    mine: (subscriptionId: Id) => ['agreement-money', 'mine', id(subscriptionId)] as const,
  },
  /** Customer-initiated changes: one subscription's options and requests, and the seller's queue. */
  changes: {
    all: ['changes'] as const,
    of: (subscriptionId: Id) => ['changes', 'subscription', id(subscriptionId)] as const,
    queue: (status: string, marketplace: string) => ['changes', 'queue', status, marketplace] as const,
  },
  seats: {
    of: (subscriptionId: Id) => ['seats', id(subscriptionId)] as const,
    page: (subscriptionId: Id, q: string, offset: number) => ['seats', id(subscriptionId), q, offset] as const,
  },

  customers: {
    list: (q: string, offset: number, limit: number) => ['customers', q, offset, limit] as const,
    detail: (customerId: Id) => ['customer', id(customerId)] as const,
  },
  /** A customer's admins and invitations; "own" for a customer admin's own organisation. */
  customerAdmins: (customerId?: Id) => ['customer-admins', customerId === undefined ? 'own' : id(customerId)] as const,

  offers: ['offers'] as const,

  /** The customer portal (/api/my/...): the signed-in customer admin's own data. */
  my: {
    all: ['my'] as const,
    subscriptions: ['my', 'subscriptions'] as const,
    subscription: (subscriptionId: Id) => ['my', 'subscription', id(subscriptionId)] as const,
    organisation: ['my', 'organisation'] as const,
  },

  metering: {
    health: ['metering-health'] as const,
    records: {
      all: ['metering-records'] as const,
      page: (params: string) => ['metering-records', params] as const,
    },
  },

  inbox: {
    all: ['inbox'] as const,
    list: (filters: Record<string, string>, limit: number, offset: number) => ['inbox', filters, limit, offset] as const,
    failedOf: (subscriptionId: Id) => ['inbox', 'failed-of', id(subscriptionId)] as const,
    message: (messageId: Id) => ['inbox-message', id(messageId)] as const,
  },

  users: ['users'] as const,
  userInvites: ['user-invites'] as const,
  apiKeys: ['apikeys'] as const,
  audit: (filters: Record<string, string>, limit: number, offset: number) => ['audit', filters, limit, offset] as const,

  webhooks: ['webhooks'] as const,
  webhookDeliveries: {
    of: (endpointId: Id) => ['webhook-deliveries', id(endpointId)] as const,
    page: (endpointId: Id, status: string, offset: number) => ['webhook-deliveries', id(endpointId), status, offset] as const,
  },

  alertChannels: ['alert-channels'] as const,
  alerts: ['alerts'] as const,
};

/**
 * What an action makes stale, by action: invalidate exactly these after it
 * (each a prefix: every page of the family is read again).
 */
export const staleAfter = {
  /** A seat assigned, released or imported: the seat list, the subscription's counts (tab badge, "bought/free"), the dashboard's seats. */
  seatChange: (subscriptionId: Id) => [queryKeys.seats.of(subscriptionId), queryKeys.subscription.detail(subscriptionId), queryKeys.dashboard],
  /**
   * A marketplace change that finished (plan, seats, unsubscribe): the
   * subscription, its seats (the quantity is the seats bought), the lists
   * and the dashboard that show its plan, quantity and state.
   */
  subscriptionChange: (subscriptionId: Id) => [
    queryKeys.subscription.detail(subscriptionId),
    queryKeys.seats.of(subscriptionId),
    queryKeys.subscriptions.all,
    queryKeys.dashboard,
  ],
};

/** Invalidates every key of a staleAfter list. */
export function invalidateAll(qc: { invalidateQueries: (f: { queryKey: readonly unknown[] }) => Promise<void> }, keys: readonly (readonly unknown[])[]) {
  return Promise.all(keys.map((queryKey) => qc.invalidateQueries({ queryKey })));
}
