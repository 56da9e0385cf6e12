package store

import (
	"encoding/json"
	"time"
)

// The live models. Migrations (migrations.go) carry their own snapshots of
// these structs; never AutoMigrate these at start-up.

// Setting is a key/value row for instance-wide values (session keys, seed marks).
type Setting struct {
	Key       string `gorm:"primaryKey;size:100"`
	Value     string
	UpdatedAt time.Time
}

// Roles.
const (
	RoleAdmin         = "admin"
	RoleOperator      = "operator"
	RoleViewer        = "viewer"
	RoleCustomerAdmin = "customer_admin"
)

// Roles lists every role.
var Roles = []string{RoleAdmin, RoleOperator, RoleViewer, RoleCustomerAdmin}

// User is a person who signs in: seller staff or a customer admin.
type User struct {
	ID                 uint `gorm:"primaryKey"`
	Email              string
	Name               string
	PasswordHash       string
	Role               string
	CustomerID         *uint
	MustChangePassword bool
	Disabled           bool
	EntraObjectID      string // customer admins who signed in with Microsoft Entra
	LastLoginAt        *time.Time
	// Two-factor authentication (TOTP): the secret once confirmed, the one
	// being set up, when it was turned on, and the last time step used (a
	// code works once).
	TOTPSecret        string     `gorm:"column:totp_secret"`
	TOTPPendingSecret string     `gorm:"column:totp_pending_secret"`
	TOTPEnabledAt     *time.Time `gorm:"column:totp_enabled_at"`
	TOTPLastStep      int64      `gorm:"column:totp_last_step"`
	// OIDCSubject binds a seller staff account to its identity provider
	// account ("issuer|sub"); once set, single sign-on matches by it only.
	OIDCSubject string `gorm:"column:oidc_subject"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Session is a signed-in browser session (gorilla/sessions data, encoded).
type Session struct {
	ID        string `gorm:"primaryKey;size:64"`
	UserID    *uint
	Data      string
	ExpiresAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// APIKey authenticates the seller's own application. Only a hash is kept.
type APIKey struct {
	ID         uint `gorm:"primaryKey"`
	Name       string
	Prefix     string
	Hash       string
	Scopes     string
	CreatedBy  *uint
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	CreatedAt  time.Time
}

// TableName keeps the table name readable.
func (APIKey) TableName() string { return "api_keys" }

// Offer is a product listed on one marketplace.
type Offer struct {
	ID          uint `gorm:"primaryKey"`
	Marketplace string
	Name        string
	// MarketplaceID is the AWS product code or the Microsoft offer id.
	MarketplaceID string
	// IdentityModel: AWS "legacy" (CustomerIdentifier+ProductCode) or
	// "concurrent_agreements" (CustomerAWSAccountId+LicenseArn); "" for Microsoft.
	IdentityModel string
	// Contract: AWS contract pricing; access follows GetEntitlements.
	Contract bool
	Plans    []Plan
	// Permissions: what the app asks a Microsoft customer's administrator
	// to consent to after activation (loaded with the plans).
	Permissions []OfferPermission `gorm:"foreignKey:OfferID"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
	OfferBranding
}

// OfferBranding is how the seller brands an offer's buyer-facing pages
// (welcome, onboarding, invitation): all optional, validated by the API.
type OfferBranding struct {
	BrandName    string // the product's name for buyers ("" : the offer's name)
	BrandLogo    string // an https URL or a small data:image URI
	BrandAccent  string // #rrggbb
	SupportEmail string
	SupportURL   string
	// GettingStarted is a JSON array of {title, url} (https links).
	GettingStarted string
}

// GettingStartedLink is one of an offer's getting-started links.
type GettingStartedLink struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Links decodes GettingStarted (nil when empty or unreadable).
func (b OfferBranding) Links() []GettingStartedLink {
	var out []GettingStartedLink
	if b.GettingStarted != "" {
		_ = json.Unmarshal([]byte(b.GettingStarted), &out)
	}
	return out
}

// Activation policies.
const (
	ActivateAutomatic      = "automatic"
	ActivateBuyerConfirms  = "buyer_confirms"
	ActivateSellerApproves = "seller_approves"
)

// Plan is one plan (or AWS pricing dimension set) of an offer.
type Plan struct {
	ID               uint `gorm:"primaryKey"`
	OfferID          uint
	PlanID           string // the marketplace's plan id
	Name             string
	SeatBased        bool
	Dimensions       string // JSON array of {key,name,unit}
	ActivationPolicy string
	// What a Microsoft customer may not change on their own (webhook
	// ChangePlan/ChangeQuantity); quantities 0 mean no limit.
	RejectPlanChange     bool
	RejectQuantityChange bool
	MinQuantity          int
	MaxQuantity          int
	// Seats (per-user plans): whether customer admins may assign more seats
	// than bought (flagged), whether the seat check hands out a free seat on
	// a user's first check, and what it answers for seats over the quantity.
	AllowOverAssignment bool
	AutoAssignSeats     bool
	OverQuantityPolicy  string
	// NeedsReview: the plan was learned from the marketplace (a purchase
	// of a plan not in the catalog yet); the seller should check its
	// policies.
	NeedsReview bool
	// What a customer admin may change from the customer portal (see
	// server/changes): allowed, approval or not_allowed ("" is approval).
	CustomerPlanChange  string
	CustomerSeatChange  string
	CustomerUnsubscribe string
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Over-quantity policies: what the seat check answers for the seats
// assigned beyond the quantity (after the quantity dropped) until the
// customer admin chooses whom to release.
const (
	OverQuantityKeepAll          = "keep_all"          // every seat holder keeps access
	OverQuantityNewestUnlicensed = "newest_unlicensed" // the most recently assigned seats beyond the quantity lose access
)

// Dimension is one entry of a plan's Dimensions.
type Dimension struct {
	Key     string `json:"key"`
	Name    string `json:"name"`
	Unit    string `json:"unit"`
	Metered bool   `json:"metered"` // contract offers: billed by usage on top of the entitlement
}

// DimensionList reads the plan's dimensions (none when unreadable).
func (p *Plan) DimensionList() []Dimension {
	var ds []Dimension
	_ = json.Unmarshal([]byte(p.Dimensions), &ds)
	return ds
}

// Customer is a buying organisation.
type Customer struct {
	ID            uint `gorm:"primaryKey"`
	Name          string
	Email         string
	AWSAccountID  string `gorm:"column:aws_account_id"`
	AzureTenantID string
	// Contacts the customer admins keep up to date in the customer portal.
	BillingContactName    string
	BillingContactEmail   string
	BillingContactPhone   string
	TechnicalContactName  string
	TechnicalContactEmail string
	TechnicalContactPhone string
	// NameSource: where Name came from (NameFrom* constants; "" before
	// it was recorded).
	NameSource string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Subscription is one customer's subscription on one marketplace.
type Subscription struct {
	ID             uint `gorm:"primaryKey"`
	Marketplace    string
	State          string
	StateChangedAt time.Time
	StateKind      string // the kind of the event that set State ("" before it was stored); see lifecycle's entitlement rule
	Name           string
	CustomerID     *uint
	Customer       *Customer
	OfferID        *uint
	Offer          *Offer
	PlanID         *uint
	Plan           *Plan
	Quantity       int

	AWSCustomerAccountID  string `gorm:"column:aws_customer_account_id"`
	AWSLicenseArn         string `gorm:"column:aws_license_arn"`
	AWSCustomerIdentifier string `gorm:"column:aws_customer_identifier"`
	AWSProductCode        string `gorm:"column:aws_product_code"`
	AWSOfferID            string `gorm:"column:aws_offer_id"` // the AWS offer the buyer accepted last (offer-identifier, agreement offer.id)
	AzureSubscriptionID   string
	AzureTenantID         string

	TermStart *time.Time
	TermEnd   *time.Time
	TermUnit  string // Microsoft's term.termUnit as sent (P1M, P1Y, …, PAY, or any value it adds)
	FreeTrial bool
	IsTest    bool
	AutoRenew bool

	// SearchText is a lower-case digest of every searchable field.
	SearchText string
	Version    int
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// TimelineEvent is one entry of a subscription's history.
type TimelineEvent struct {
	ID             uint `gorm:"primaryKey"`
	SubscriptionID uint
	At             time.Time
	Kind           string
	Source         string
	Summary        string
	FromState      string
	ToState        string
	Actor          string
	Payload        string
	InboxID        *uint
	CreatedAt      time.Time
}

// Inbox statuses.
const (
	InboxReceived  = "received"
	InboxProcessed = "processed"
	InboxFailed    = "failed"
	InboxIgnored   = "ignored"
)

// InboxMessage is one inbound message, stored raw before it is acknowledged.
type InboxMessage struct {
	ID             uint `gorm:"primaryKey"`
	Marketplace    string
	Source         string
	DedupKey       string
	Action         string
	ContentType    string
	Headers        string
	Body           string
	Status         string
	Error          string
	Attempts       int
	SubscriptionID *uint
	ReceivedAt     time.Time
	ProcessedAt    *time.Time
	NextAttemptAt  *time.Time
	// AnswerStatus and AnswerBody: what the first delivery was answered
	// (webhooks), so that a redelivery gets the same answer.
	AnswerStatus int
	AnswerBody   string
}

// TableName keeps the table name readable.
func (InboxMessage) TableName() string { return "inbox_messages" }

// AuditEntry records who did what.
type AuditEntry struct {
	ID          uint `gorm:"primaryKey"`
	At          time.Time
	ActorUserID *uint
	ActorEmail  string
	Action      string
	TargetType  string
	TargetID    string
	Before      string
	After       string
	RequestID   string
	IP          string
}

// TableName keeps the table name readable.
func (AuditEntry) TableName() string { return "audit_log" }

// OnboardingTicket lets a buyer who just registered through AWS create
// their account: short-lived, single-use; only its hash is stored.
type OnboardingTicket struct {
	ID             uint `gorm:"primaryKey"`
	TokenHash      string
	SubscriptionID uint
	ExpiresAt      time.Time
	UsedAt         *time.Time
	CreatedAt      time.Time
}

// Entitlement is one contract dimension an AWS customer holds, as
// GetEntitlements last reported it.
type Entitlement struct {
	ID             uint `gorm:"primaryKey"`
	SubscriptionID uint
	Dimension      string
	Kind           string // integer, double, boolean, string
	Value          string
	IntegerValue   *int64
	ExpiresAt      *time.Time
	UpdatedAt      time.Time
}

// AWSAgreement is an AWS Marketplace purchase agreement as its EventBridge
// events described it. License Updated links it to a subscription (the
// only event that names both the agreement and the license).
type AWSAgreement struct {
	ID                  uint `gorm:"primaryKey"`
	AgreementID         string
	SubscriptionID      *uint
	AccountID           string
	ProductCode         string
	OfferID             string
	Intent              string // NEW, RENEW, REPLACE, AMEND, as AWS sent it
	Status              string // ACTIVE, CANCELLED, EXPIRED, TERMINATED, RENEWED, REPLACED, ... verbatim
	PreviousAgreementID string
	StartsAt            *time.Time
	EndsAt              *time.Time
	EndedAt             *time.Time // when Purchase Agreement Ended said so
	DaysBeforeEnd       *int       // from the latest Purchase Agreement Ending
	AutoRenewal         string     // "true", "false" or "" (not said)
	LastEventAt         *time.Time
	// The agreement's terms as GetAgreementTerms answered them (read once
	// the agreement is linked to a subscription).
	TermsStatus     string     // "" not read yet, "read", "unavailable" (no Agreement API in this partition), "error" (retried)
	TermsError      string     // the last failure
	TermsAttempts   int        // failed reads so far
	TermsNextAt     *time.Time // the next read after a failure
	TermsReadAt     *time.Time
	FreeTrialDays   *int       // the FreeTrialPricingTerm's duration (AWS allows 5 to 31 days); nil: no free trial, or not known
	FreeTrialEndsAt *time.Time // the agreement's start plus that duration, when the start is known
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// TableName keeps gorm off its own pluralisation.
func (AWSAgreement) TableName() string { return "aws_agreements" }

// AzureOperation is a Microsoft SaaS operation Marketgate follows: one it
// started (Partner) or one a webhook announced (Azure).
type AzureOperation struct {
	ID             uint `gorm:"primaryKey"`
	SubscriptionID uint
	OperationID    string
	Action         string // Activate is not an operation; ChangePlan, ChangeQuantity, Unsubscribe, Suspend, Reinstate, Renew
	Source         string // Partner (started here) or Azure (the customer)
	PlanID         string
	Quantity       int
	Status         string // NotStarted, InProgress, Succeeded, Failed, Conflict, TimedOut
	ErrorMessage   string
	RequestedBy    string
	Attempts       int
	NextPollAt     *time.Time
	FinishedAt     *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// TableName keeps gorm off its own pluralisation.
func (AzureOperation) TableName() string { return "azure_operations" }

// AzureSignIn is a buyer on their way from the landing page through Entra
// sign-in: the purchase token waits here, never in a URL or a cookie.
type AzureSignIn struct {
	ID            uint `gorm:"primaryKey"`
	StateHash     string
	Nonce         string
	PurchaseToken string
	Purpose       string // landing, login, invite
	NextPath      string // login: where to go after signing in
	InviteID      *uint  // invite: the invitation being accepted
	ExpiresAt     time.Time
	UsedAt        *time.Time
	CreatedAt     time.Time
}

// TableName keeps gorm off its own pluralisation.
func (AzureSignIn) TableName() string { return "azure_sign_ins" }

// Usage event and metering record statuses.
const (
	UsageAccepted = "accepted"
	UsageRejected = "rejected"

	RecordPending     = "pending"       // sealed, not yet settled with the marketplace
	RecordAccepted    = "accepted"      // the marketplace billed it (or already held it, same quantity)
	RecordDuplicate   = "duplicate"     // AWS: that hour was metered with another quantity
	RecordConflict    = "conflict"      // Microsoft: the hour holds another quantity
	RecordRejected    = "rejected"      // refused for good (reason says why)
	RecordExpired     = "expired"       // past the marketplace's window; settle it another way
	RecordNotSentZero = "not_sent_zero" // Microsoft: an idle hour (zero is not sent)
	RecordNotActive   = "not_sent_inactive"
)

// RecordStatuses lists every metering record status.
var RecordStatuses = []string{RecordPending, RecordAccepted, RecordDuplicate, RecordConflict, RecordRejected, RecordExpired,
	RecordNotSentZero, RecordNotActive}

// UsageEvent is one usage report from the seller's app, as received.
type UsageEvent struct {
	ID             uint  `gorm:"primaryKey"`
	DedupBucket    int64 // see UsageDedupBucket
	EventID        string
	APIKeyID       *uint `gorm:"column:api_key_id"`
	SubscriptionID *uint
	Dimension      string
	Quantity       float64
	OccurredAt     *time.Time
	Hour           *time.Time
	Late           bool
	Status         string
	Reason         string
	Source         string
	ReceivedAt     time.Time
}

// MeteringRecord is one sealed hour of one dimension of one subscription:
// exactly what is (or is not) sent to the marketplace, sent again
// identically until it has a final status.
type MeteringRecord struct {
	ID                    uint `gorm:"primaryKey"`
	SubscriptionID        uint
	Marketplace           string
	Dimension             string
	Hour                  time.Time
	Quantity              float64
	Status                string
	MarketplaceRecordID   string
	Reason                string
	Attempts              int
	NextAttemptAt         *time.Time
	LeaseOwner            string
	LeaseUntil            *time.Time
	Final                 bool   // sealed early: the customer cancelled (AWS unsubscribe-pending)
	AWSCustomerAccountID  string `gorm:"column:aws_customer_account_id"`
	AWSLicenseArn         string `gorm:"column:aws_license_arn"`
	AWSCustomerIdentifier string `gorm:"column:aws_customer_identifier"`
	AWSProductCode        string `gorm:"column:aws_product_code"`
	AzureSubscriptionID   string
	PlanID                string
	SentAt                *time.Time
	SettledAt             *time.Time
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// Seat sources.
const (
	SeatManual = "manual"
	SeatImport = "import"
	SeatAuto   = "auto"
)

// Seat is one user of a customer holding a seat of a per-user subscription,
// known by e-mail, Entra object id, or both.
type Seat struct {
	ID             uint       `gorm:"primaryKey" json:"id"`
	SubscriptionID uint       `json:"subscription_id"`
	CustomerID     *uint      `json:"-"`
	Email          string     `json:"email"`
	EntraObjectID  string     `json:"entra_object_id"`
	Name           string     `json:"name"`
	Source         string     `json:"source"`
	AssignedBy     string     `json:"assigned_by"`
	AssignedAt     time.Time  `json:"assigned_at"`
	LastCheckedAt  *time.Time `json:"last_checked_at"`
}

// Event is an outbox row: something that happened, written in the same
// transaction as the change, for the webhook endpoints that listen.
type Event struct {
	ID             uint `gorm:"primaryKey"`
	EventID        string
	Type           string
	SubscriptionID *uint
	CustomerID     *uint
	OccurredAt     time.Time
	Data           string
	CreatedAt      time.Time
}

// WebhookEndpoint is one of the seller's receivers of signed event deliveries.
type WebhookEndpoint struct {
	ID                  uint       `gorm:"primaryKey" json:"id"`
	URL                 string     `json:"url"`
	Description         string     `json:"description"`
	Secret              string     `json:"-"`
	EventTypes          string     `json:"-"`
	Enabled             bool       `json:"enabled"`
	DisabledReason      string     `json:"disabled_reason"`
	DisabledAt          *time.Time `json:"disabled_at"`
	FailingSince        *time.Time `json:"failing_since"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	LastSuccessAt       *time.Time `json:"last_success_at"`
	CreatedBy           string     `json:"created_by"`
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
}

// Webhook delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed" // gave up after the retry period
)

// WebhookDelivery is one event to one endpoint, with its last attempt.
type WebhookDelivery struct {
	ID              uint `gorm:"primaryKey"`
	EndpointID      uint
	EventID         uint
	OrderKey        string // deliveries with the same key reach an endpoint in order
	Status          string
	Attempts        int
	NextAttemptAt   time.Time
	LeaseOwner      string
	LeaseUntil      *time.Time
	LastAttemptAt   *time.Time
	ResponseStatus  int
	ResponseExcerpt string
	Error           string
	RequestHeaders  string // JSON: the headers of the last attempt, as sent
	DeliveredAt     *time.Time
	CreatedAt       time.Time
}

// AlertChannel is where alerts go: an e-mail address or a Slack- or
// Teams-compatible incoming webhook.
type AlertChannel struct {
	ID         uint       `gorm:"primaryKey" json:"id"`
	Kind       string     `json:"kind"`
	Name       string     `json:"name"`
	Target     string     `json:"target"`
	AlertTypes string     `json:"-"`
	Enabled    bool       `json:"enabled"`
	LastSentAt *time.Time `json:"last_sent_at"`
	LastError  string     `json:"last_error"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// Alert is something that needs a person; repeats of the same type and
// key add to its count instead of raising new alerts.
type Alert struct {
	ID      uint      `gorm:"primaryKey" json:"id"`
	Type    string    `json:"type"`
	Key     string    `json:"key"`
	Title   string    `json:"title"`
	Detail  string    `json:"detail"`
	Link    string    `json:"link"`
	Count   int       `json:"count"`
	FirstAt time.Time `json:"first_at"`
	LastAt  time.Time `json:"last_at"`
}

// AlertNotice is what one channel was told about one alert.
type AlertNotice struct {
	ID            uint `gorm:"primaryKey"`
	AlertID       uint
	ChannelID     uint
	NotifiedAt    *time.Time
	NotifiedCount int
	Attempts      int
	NextAttemptAt *time.Time
	LastError     string
}
