// The wire types of the portal API: every request and answer body the
// portal sends or reads. They are not written here: schema.gen.ts is
// generated (npm run gen:api) from the portal API's OpenAPI document, which
// the server makes from its Go types (server/api/contract.go). These names
// are the portal's words for those schemas. A field the portal reads that
// the API does not send fails the type-check.
import type { components, paths } from './schema.gen';

type S = components['schemas'];

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : undefined;
type Success<R> = R extends { 200: infer A } ? A : R extends { 201: infer A } ? A : R extends { 202: infer A } ? A : never;
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The JSON answer of a route, as the contract describes it. */
export type AnswerOf<P extends keyof paths, M extends Method> = paths[P][M] extends { responses: infer R } ? Json<Success<R>> : never;

// ---- the values some fields take (enums of the contract) ----
export type Role = S['UserRow']['role'];
export type OverQuantityPolicy = S['Plan']['over_quantity_policy'];
export type DeliveryStatus = S['Delivery']['status'];
export type AlertChannelKind = S['Channel']['kind'];

// ---- sign-in ----
export type User = S['UserRow'];
export type Me = S['Me'];
export type AuthOptions = S['AuthOptions'];
export type LoginAnswer = S['LoginAnswer'];
export type TwoFactorSetup = S['TwoFactorSetup'];
export type SecuritySettings = S['SecuritySettings'];
export type UserInvite = S['StaffInvite'];

// ---- subscriptions ----
export type Subscription = S['Subscription'];
export type SubscriptionList = S['SubscriptionList'];
export type AWSMeteringIdentity = S['MeteringIdentity'];
export type TimelineEntry = S['Timeline'];
export type Entitlement = S['Entitlement'];
export type Agreement = S['Agreement'];
export type FreeTrial = S['FreeTrial'];
export type AzureOperation = S['Operation'];
export type SubscriptionDetail = S['SubscriptionDetail'];
export type AvailablePlan = S['AzurePlan'];
export type SubscriptionRaw = S['SubscriptionRecord'];
export type ReconcileReport = S['ReconcileReport'];

// ---- offers, plans, customers ----
export type Plan = S['Plan'];
export type PlanFull = S['Plan'];
export type Dimension = S['Dimension'];
export type Offer = S['Offer'];
export type OfferFull = S['Offer'];
/** The seat policies PATCH /api/plans/:id/seats takes. */
export type PlanSeatPolicies = Pick<Plan, 'seat_based' | 'allow_over_assignment' | 'auto_assign_seats' | 'over_quantity_policy'>;
export type Customer = S['CustomerRow'];
export type CustomerList = S['CustomerList'];
export type CustomerDetail = S['CustomerAnswer']['customer'];

// ---- inbound messages ----
export type InboxMessage = S['InboxMessage'];
export type InboxList = S['InboxList'];

// ---- seats and customer admins ----
export type SeatSummary = S['SeatSummary'];
/** A subscription's seat counts (SeatSummary without what the seats page adds). */
export type SeatCounts = S['SeatCounts'];
export type Seat = S['Seat'];
export type SeatList = S['SeatList'];
export type SeatImportResult = S['SeatImport'];
export type CustomerAdmin = S['Admin'];
export type AdminInvite = S['CustomerAdminInvite'];
export type CustomerAdmins = S['CustomerAdminsAnswer'];

// ---- outbound webhooks, alert channels, alerts ----
export type TypeInfo = S['EventType'];
export type WebhookEndpoint = S['Endpoint'];
export type WebhookDelivery = S['Delivery'];
export type WebhookDeliveryPage = S['DeliveryPage'];
export type WebhookList = S['EndpointList'];
export type AlertChannel = S['Channel'];
export type AlertChannelList = S['AlertChannelList'];
export type AlertItem = S['Alert'];

// ---- metering, audit, keys, system, dashboard ----
export type MeteringRecord = S['MeteringRecord'];
export type MeteringRecordList = S['MeteringRecordList'];
export type MeteringHealth = S['MeteringHealth'];
export type UsageSeries = S['UsageSeries'];
export type UsageDimension = S['UsageDimension'];
export type UsageBucket = S['UsageBucket'];
export type UsageStatus = S['UsageStatus'];
/** A usage report's selection: the granularity and the period (RFC 3339, to exclusive). */
export interface UsageParams {
  granularity: 'hour' | 'day';
  from?: string;
  to?: string;
}
export type AuditEntry = S['Audit'];
export type AuditPage = S['AuditPage'];
export type ApiKey = S['ApiKey'];
export type Connection = S['MarketplaceConnection'];
export type SystemInfo = S['System'];
export type DayCount = S['DayCount'];
export type Dashboard = S['Dashboard'];
export type SetupReport = S['SetupReport'];
export type SetupCheck = S['SetupCheck'];

// ---- customer-initiated changes ----
export type ChangeOptions = S['ChangeOptionsAnswer'];
export type ChangeKindOption = S['ChangeKind'];
export type ChangeKind = S['ChangeInput']['kind'];
export type ChangeInput = S['ChangeInput'];
export type ChangeRequest = S['ChangeRequest'];
export type ChangeAnswer = S['ChangeAnswer'];
export type ChangeRequestList = S['ChangeRequestList'];
export type ChangePolicy = S['Plan']['customer_plan_change'];
// ---- the customer portal (/api/my/...) ----
export type MySubscription = S['MySubscription'];
export type MySubscriptionList = S['MySubscriptionList'];
export type MyStatus = S['MyStatus'];
export type MyParty = S['MyParty'];
export type MyOrganisation = S['MyOrganisation'];
export type MyOrganisationInput = S['MyOrganisationInput'];
export type Contact = S['Contact'];
// ---- Entra admin consent (extra app permissions after activation) ----
export type OfferPermission = S['OfferPermission'];
export type OfferPermissionInput = S['OfferPermissionInput'];
export type AdminConsent = S['AdminConsent'];
export type ConsentPermissions = S['ConsentPermissionsAnswer'];
// ---- AWS agreements: the agreement page and renewals ----
export type AgreementPage = S['AgreementPage'];
export type AgreementDescription = S['AgreementDescription'];
export type AgreementDim = S['AgreementDim'];
export type RelatedAgreement = S['RelatedAgreement'];
export type RenewalItem = S['Renewal'];


// ---- AWS agreement money: invoices, charges, refunds, cancellation and payment requests ----
export type AgreementMoney = S['AgreementMoneyAnswer'];
export type AgreementRequest = S['AgreementRequest'];
export type AgreementRequestAnswer = S['AgreementRequestAnswer'];
export type AgreementInvoice = S['InvoiceLine'];
export type AgreementCharge = S['Charge'];
export type RefundInput = S['RefundInput'];
export type CancellationInput = S['CancellationInput'];
export type PaymentInput = S['PaymentInput'];
export type WithdrawInput = S['WithdrawInput'];
export type MyAgreement = S['MyAgreementAnswer'];
