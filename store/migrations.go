package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// Migrations are append-only: never edit one that has shipped, add a new
// one. Each runs in its own transaction. The SQL is written once for both
// databases; the placeholders below become each dialect's types.
//
//	{{id}}   integer primary key   | bigserial primary key
//	{{ts}}   datetime              | timestamptz
//	{{bool}} boolean (0/1)         | boolean
//	{{ref}}  integer               | bigint (a foreign key column)
var migrations = []struct {
	id  string
	sql string
}{
	{"202611240001_initial", `
CREATE TABLE settings (
	key varchar(100) PRIMARY KEY,
	value text NOT NULL DEFAULT '',
	updated_at {{ts}}
);

CREATE TABLE customers (
	id {{id}},
	name text NOT NULL DEFAULT '',
	email text NOT NULL DEFAULT '',
	aws_account_id varchar(12) NOT NULL DEFAULT '',
	azure_tenant_id varchar(64) NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE INDEX customers_name ON customers (name);
CREATE INDEX customers_aws_account ON customers (aws_account_id) WHERE aws_account_id <> '';
CREATE UNIQUE INDEX customers_azure_tenant ON customers (azure_tenant_id) WHERE azure_tenant_id <> '';

CREATE TABLE users (
	id {{id}},
	email varchar(320) NOT NULL,
	name text NOT NULL DEFAULT '',
	password_hash text NOT NULL DEFAULT '',
	role varchar(32) NOT NULL,
	customer_id {{ref}} REFERENCES customers (id) ON DELETE CASCADE,
	must_change_password {{bool}} NOT NULL DEFAULT FALSE,
	disabled {{bool}} NOT NULL DEFAULT FALSE,
	last_login_at {{ts}},
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL,
	CHECK (role IN ('admin', 'operator', 'viewer', 'customer_admin')),
	CHECK ((role = 'customer_admin') = (customer_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_customer ON users (customer_id);

CREATE TABLE sessions (
	id varchar(64) PRIMARY KEY,
	user_id {{ref}} REFERENCES users (id) ON DELETE CASCADE,
	data text NOT NULL DEFAULT '',
	expires_at {{ts}} NOT NULL,
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_keys (
	id {{id}},
	name text NOT NULL,
	prefix varchar(32) NOT NULL,
	hash varchar(128) NOT NULL,
	scopes text NOT NULL DEFAULT '',
	created_by {{ref}} REFERENCES users (id) ON DELETE SET NULL,
	last_used_at {{ts}},
	revoked_at {{ts}},
	created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);

CREATE TABLE offers (
	id {{id}},
	marketplace varchar(8) NOT NULL,
	name text NOT NULL,
	marketplace_id varchar(200) NOT NULL,
	identity_model varchar(32) NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL,
	CHECK (marketplace IN ('aws', 'azure'))
);
CREATE UNIQUE INDEX offers_marketplace_id ON offers (marketplace, marketplace_id);

CREATE TABLE plans (
	id {{id}},
	offer_id {{ref}} NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
	plan_id varchar(200) NOT NULL,
	name text NOT NULL,
	seat_based {{bool}} NOT NULL DEFAULT FALSE,
	dimensions text NOT NULL DEFAULT '[]',
	activation_policy varchar(32) NOT NULL DEFAULT 'automatic',
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL,
	CHECK (activation_policy IN ('automatic', 'buyer_confirms', 'seller_approves'))
);
CREATE UNIQUE INDEX plans_offer_plan ON plans (offer_id, plan_id);

CREATE TABLE subscriptions (
	id {{id}},
	marketplace varchar(8) NOT NULL,
	state varchar(32) NOT NULL,
	state_changed_at {{ts}} NOT NULL,
	name text NOT NULL DEFAULT '',
	customer_id {{ref}} REFERENCES customers (id),
	offer_id {{ref}} REFERENCES offers (id),
	plan_id {{ref}} REFERENCES plans (id),
	quantity integer NOT NULL DEFAULT 0,
	aws_customer_account_id varchar(12) NOT NULL DEFAULT '',
	aws_license_arn varchar(2048) NOT NULL DEFAULT '',
	aws_customer_identifier varchar(256) NOT NULL DEFAULT '',
	aws_product_code varchar(256) NOT NULL DEFAULT '',
	azure_subscription_id varchar(64) NOT NULL DEFAULT '',
	azure_tenant_id varchar(64) NOT NULL DEFAULT '',
	term_start {{ts}},
	term_end {{ts}},
	free_trial {{bool}} NOT NULL DEFAULT FALSE,
	is_test {{bool}} NOT NULL DEFAULT FALSE,
	auto_renew {{bool}} NOT NULL DEFAULT FALSE,
	search_text text NOT NULL DEFAULT '',
	version integer NOT NULL DEFAULT 1,
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL,
	CHECK (marketplace IN ('aws', 'azure')),
	CHECK (state IN ('pending', 'active', 'suspended', 'unsubscribe_pending', 'ended', 'failed')),
	CHECK (quantity >= 0)
);
CREATE UNIQUE INDEX subscriptions_aws_ca ON subscriptions (aws_customer_account_id, aws_license_arn) WHERE aws_license_arn <> '';
CREATE UNIQUE INDEX subscriptions_aws_legacy ON subscriptions (aws_product_code, aws_customer_identifier) WHERE aws_customer_identifier <> '';
CREATE UNIQUE INDEX subscriptions_azure ON subscriptions (azure_subscription_id) WHERE azure_subscription_id <> '';
CREATE INDEX subscriptions_created ON subscriptions (created_at, id);
CREATE INDEX subscriptions_updated ON subscriptions (updated_at, id);
CREATE INDEX subscriptions_state_created ON subscriptions (state, created_at, id);
CREATE INDEX subscriptions_marketplace_created ON subscriptions (marketplace, created_at, id);
CREATE INDEX subscriptions_quantity ON subscriptions (quantity, id);
CREATE INDEX subscriptions_customer ON subscriptions (customer_id);
CREATE INDEX subscriptions_offer ON subscriptions (offer_id, created_at, id);
CREATE INDEX subscriptions_plan ON subscriptions (plan_id, created_at, id);
CREATE INDEX subscriptions_filters ON subscriptions (state, marketplace, offer_id, plan_id);
CREATE INDEX subscriptions_state_mp_created ON subscriptions (state, marketplace, created_at, id);
CREATE INDEX subscriptions_state_mp_updated ON subscriptions (state, marketplace, updated_at, id);
CREATE INDEX subscriptions_marketplace_filters ON subscriptions (marketplace, offer_id, plan_id);
CREATE INDEX subscriptions_plan_offer ON subscriptions (plan_id, offer_id);
CREATE INDEX subscriptions_aws_account ON subscriptions (aws_customer_account_id);
CREATE INDEX subscriptions_azure_id ON subscriptions (azure_subscription_id);
CREATE INDEX subscriptions_license ON subscriptions (aws_license_arn);

CREATE TABLE timeline_events (
	id {{id}},
	subscription_id {{ref}} NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
	at {{ts}} NOT NULL,
	kind varchar(64) NOT NULL,
	source varchar(64) NOT NULL DEFAULT '',
	summary text NOT NULL DEFAULT '',
	from_state varchar(32) NOT NULL DEFAULT '',
	to_state varchar(32) NOT NULL DEFAULT '',
	actor text NOT NULL DEFAULT '',
	payload text NOT NULL DEFAULT '',
	inbox_id {{ref}},
	created_at {{ts}} NOT NULL
);
CREATE INDEX timeline_subscription ON timeline_events (subscription_id, at, id);

CREATE TABLE inbox_messages (
	id {{id}},
	marketplace varchar(8) NOT NULL,
	source varchar(64) NOT NULL,
	dedup_key varchar(512) NOT NULL,
	action varchar(128) NOT NULL DEFAULT '',
	content_type text NOT NULL DEFAULT '',
	headers text NOT NULL DEFAULT '',
	body text NOT NULL,
	status varchar(16) NOT NULL,
	error text NOT NULL DEFAULT '',
	attempts integer NOT NULL DEFAULT 0,
	subscription_id {{ref}} REFERENCES subscriptions (id) ON DELETE SET NULL,
	received_at {{ts}} NOT NULL,
	processed_at {{ts}},
	next_attempt_at {{ts}},
	CHECK (status IN ('received', 'processed', 'failed', 'ignored'))
);
CREATE UNIQUE INDEX inbox_dedup ON inbox_messages (source, dedup_key);
CREATE INDEX inbox_received ON inbox_messages (received_at, id);
CREATE INDEX inbox_status ON inbox_messages (status, received_at);
CREATE INDEX inbox_subscription ON inbox_messages (subscription_id);

CREATE TABLE audit_log (
	id {{id}},
	at {{ts}} NOT NULL,
	actor_user_id {{ref}},
	actor_email text NOT NULL DEFAULT '',
	action varchar(128) NOT NULL,
	target_type varchar(64) NOT NULL DEFAULT '',
	target_id varchar(128) NOT NULL DEFAULT '',
	before text NOT NULL DEFAULT '',
	after text NOT NULL DEFAULT '',
	request_id varchar(64) NOT NULL DEFAULT '',
	ip varchar(64) NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit_log (at, id);
`},
	{"202611240002_onboarding_tickets", `
CREATE TABLE onboarding_tickets (
	id {{id}},
	token_hash varchar(64) NOT NULL,
	subscription_id {{ref}} NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
	expires_at {{ts}} NOT NULL,
	used_at {{ts}},
	created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX onboarding_tickets_hash ON onboarding_tickets (token_hash);
`},
	{"202611240003_entitlements", `
ALTER TABLE offers ADD COLUMN contract {{bool}} NOT NULL DEFAULT FALSE;
CREATE TABLE entitlements (
	id {{id}},
	subscription_id {{ref}} NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
	dimension varchar(256) NOT NULL,
	kind varchar(16) NOT NULL,
	value text NOT NULL DEFAULT '',
	integer_value bigint,
	expires_at {{ts}},
	updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX entitlements_dimension ON entitlements (subscription_id, dimension);
`},
	{"202611260004_aws_agreements", `
CREATE TABLE aws_agreements (
	id {{id}},
	agreement_id varchar(128) NOT NULL,
	subscription_id {{ref}} REFERENCES subscriptions (id) ON DELETE SET NULL,
	account_id varchar(32) NOT NULL DEFAULT '',
	product_code varchar(255) NOT NULL DEFAULT '',
	offer_id varchar(255) NOT NULL DEFAULT '',
	intent varchar(32) NOT NULL DEFAULT '',
	status varchar(32) NOT NULL DEFAULT '',
	previous_agreement_id varchar(128) NOT NULL DEFAULT '',
	starts_at {{ts}},
	ends_at {{ts}},
	ended_at {{ts}},
	days_before_end integer,
	auto_renewal varchar(8) NOT NULL DEFAULT '',
	last_event_at {{ts}},
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX aws_agreements_agreement ON aws_agreements (agreement_id);
CREATE INDEX aws_agreements_subscription ON aws_agreements (subscription_id);
ALTER TABLE subscriptions ADD COLUMN aws_offer_id varchar(255) NOT NULL DEFAULT '';
`},
	{"202611260005_azure", `
ALTER TABLE plans ADD COLUMN reject_plan_change {{bool}} NOT NULL DEFAULT FALSE;
ALTER TABLE plans ADD COLUMN reject_quantity_change {{bool}} NOT NULL DEFAULT FALSE;
ALTER TABLE plans ADD COLUMN min_quantity integer NOT NULL DEFAULT 0;
ALTER TABLE plans ADD COLUMN max_quantity integer NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN entra_object_id varchar(64) NOT NULL DEFAULT '';
CREATE TABLE azure_operations (
	id {{id}},
	subscription_id {{ref}} NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
	operation_id varchar(64) NOT NULL,
	action varchar(32) NOT NULL,
	source varchar(16) NOT NULL,
	plan_id varchar(128) NOT NULL DEFAULT '',
	quantity integer NOT NULL DEFAULT 0,
	status varchar(32) NOT NULL,
	error_message text NOT NULL DEFAULT '',
	requested_by varchar(320) NOT NULL DEFAULT '',
	attempts integer NOT NULL DEFAULT 0,
	next_poll_at {{ts}},
	finished_at {{ts}},
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX azure_operations_operation ON azure_operations (operation_id);
CREATE INDEX azure_operations_open ON azure_operations (finished_at, next_poll_at);
CREATE INDEX azure_operations_subscription ON azure_operations (subscription_id);
CREATE TABLE azure_sign_ins (
	id {{id}},
	state_hash varchar(64) NOT NULL,
	nonce varchar(64) NOT NULL,
	purchase_token text NOT NULL,
	expires_at {{ts}} NOT NULL,
	used_at {{ts}},
	created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX azure_sign_ins_state ON azure_sign_ins (state_hash);
`},
	{"202611260006_metering", `
CREATE TABLE usage_events (
	id {{id}},
	event_id varchar(128) NOT NULL,
	api_key_id {{ref}},
	subscription_id {{ref}},
	dimension varchar(256) NOT NULL DEFAULT '',
	quantity double precision NOT NULL DEFAULT 0,
	occurred_at {{ts}},
	hour {{ts}},
	late {{bool}} NOT NULL DEFAULT FALSE,
	status varchar(16) NOT NULL,
	reason varchar(300) NOT NULL DEFAULT '',
	source varchar(16) NOT NULL DEFAULT 'api',
	received_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX usage_events_event ON usage_events (event_id);
CREATE INDEX usage_events_subscription ON usage_events (subscription_id, hour);
CREATE TABLE usage_hours (
	subscription_id {{ref}} NOT NULL,
	dimension varchar(256) NOT NULL,
	hour {{ts}} NOT NULL,
	quantity double precision NOT NULL DEFAULT 0,
	events integer NOT NULL DEFAULT 0,
	sealed {{bool}} NOT NULL DEFAULT FALSE,
	updated_at {{ts}} NOT NULL,
	PRIMARY KEY (subscription_id, dimension, hour)
);
CREATE INDEX usage_hours_open ON usage_hours (sealed, hour);
CREATE TABLE metering_records (
	id {{id}},
	subscription_id {{ref}} NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
	marketplace varchar(8) NOT NULL,
	dimension varchar(256) NOT NULL,
	hour {{ts}} NOT NULL,
	quantity double precision NOT NULL,
	status varchar(24) NOT NULL,
	marketplace_record_id varchar(128) NOT NULL DEFAULT '',
	reason text NOT NULL DEFAULT '',
	attempts integer NOT NULL DEFAULT 0,
	next_attempt_at {{ts}},
	lease_owner varchar(64) NOT NULL DEFAULT '',
	lease_until {{ts}},
	final {{bool}} NOT NULL DEFAULT FALSE,
	aws_customer_account_id varchar(32) NOT NULL DEFAULT '',
	aws_license_arn varchar(2048) NOT NULL DEFAULT '',
	aws_customer_identifier varchar(255) NOT NULL DEFAULT '',
	aws_product_code varchar(255) NOT NULL DEFAULT '',
	azure_subscription_id varchar(64) NOT NULL DEFAULT '',
	plan_id varchar(128) NOT NULL DEFAULT '',
	sent_at {{ts}},
	settled_at {{ts}},
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX metering_records_hour ON metering_records (subscription_id, dimension, hour);
CREATE INDEX metering_records_due ON metering_records (status, next_attempt_at);
CREATE INDEX metering_records_list ON metering_records (hour, id);
CREATE INDEX metering_records_settled ON metering_records (status, settled_at);
CREATE TABLE leases (
	name varchar(64) PRIMARY KEY,
	owner varchar(128) NOT NULL,
	until {{ts}} NOT NULL
);
`},
	{"202611270007_seats", `
ALTER TABLE plans ADD COLUMN allow_over_assignment {{bool}} NOT NULL DEFAULT FALSE;
ALTER TABLE plans ADD COLUMN auto_assign_seats {{bool}} NOT NULL DEFAULT FALSE;
ALTER TABLE plans ADD COLUMN over_quantity_policy varchar(32) NOT NULL DEFAULT 'keep_all';
CREATE TABLE seats (
	id {{id}},
	subscription_id {{ref}} NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
	customer_id {{ref}} REFERENCES customers (id) ON DELETE CASCADE,
	email varchar(320) NOT NULL DEFAULT '',
	entra_object_id varchar(64) NOT NULL DEFAULT '',
	name text NOT NULL DEFAULT '',
	source varchar(16) NOT NULL,
	assigned_by varchar(320) NOT NULL DEFAULT '',
	assigned_at {{ts}} NOT NULL,
	last_checked_at {{ts}},
	CHECK (email <> '' OR entra_object_id <> ''),
	CHECK (source IN ('manual', 'import', 'auto'))
);
CREATE UNIQUE INDEX seats_email ON seats (subscription_id, email) WHERE email <> '';
CREATE UNIQUE INDEX seats_object ON seats (subscription_id, entra_object_id) WHERE entra_object_id <> '';
CREATE INDEX seats_order ON seats (subscription_id, assigned_at, id);
CREATE TABLE admin_invites (
	id {{id}},
	customer_id {{ref}} NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	email varchar(320) NOT NULL,
	token_hash varchar(64) NOT NULL,
	created_by varchar(320) NOT NULL DEFAULT '',
	expires_at {{ts}} NOT NULL,
	used_at {{ts}},
	used_by {{ref}} REFERENCES users (id) ON DELETE SET NULL,
	revoked_at {{ts}},
	created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX admin_invites_token ON admin_invites (token_hash);
CREATE INDEX admin_invites_customer ON admin_invites (customer_id, created_at);
ALTER TABLE azure_sign_ins ADD COLUMN purpose varchar(16) NOT NULL DEFAULT 'landing';
ALTER TABLE azure_sign_ins ADD COLUMN next_path text NOT NULL DEFAULT '';
ALTER TABLE azure_sign_ins ADD COLUMN invite_id {{ref}};
CREATE INDEX users_entra_object ON users (entra_object_id) WHERE entra_object_id <> '';
`},
	{"202611270008_outbox_webhooks_alerts", `
CREATE TABLE events (
	id {{id}},
	event_id varchar(40) NOT NULL,
	type varchar(64) NOT NULL,
	subscription_id {{ref}},
	customer_id {{ref}},
	occurred_at {{ts}} NOT NULL,
	data text NOT NULL,
	created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX events_event_id ON events (event_id);
CREATE INDEX events_created ON events (created_at);
CREATE TABLE webhook_endpoints (
	id {{id}},
	url text NOT NULL,
	description text NOT NULL DEFAULT '',
	secret text NOT NULL,
	event_types text NOT NULL DEFAULT '*',
	enabled {{bool}} NOT NULL DEFAULT TRUE,
	disabled_reason text NOT NULL DEFAULT '',
	disabled_at {{ts}},
	failing_since {{ts}},
	consecutive_failures integer NOT NULL DEFAULT 0,
	last_success_at {{ts}},
	created_by varchar(320) NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE TABLE webhook_deliveries (
	id {{id}},
	endpoint_id {{ref}} NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	event_id {{ref}} NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	order_key varchar(64) NOT NULL DEFAULT '',
	status varchar(16) NOT NULL,
	attempts integer NOT NULL DEFAULT 0,
	next_attempt_at {{ts}} NOT NULL,
	lease_owner varchar(128) NOT NULL DEFAULT '',
	lease_until {{ts}},
	last_attempt_at {{ts}},
	response_status integer NOT NULL DEFAULT 0,
	response_excerpt text NOT NULL DEFAULT '',
	error text NOT NULL DEFAULT '',
	delivered_at {{ts}},
	created_at {{ts}} NOT NULL,
	CHECK (status IN ('pending', 'succeeded', 'failed'))
);
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (endpoint_id, event_id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (endpoint_id, order_key, status, id);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, id);
ALTER TABLE metering_records ADD COLUMN expiry_warned_at {{ts}};
CREATE TABLE alert_channels (
	id {{id}},
	kind varchar(16) NOT NULL,
	name text NOT NULL DEFAULT '',
	target text NOT NULL,
	alert_types text NOT NULL DEFAULT '*',
	enabled {{bool}} NOT NULL DEFAULT TRUE,
	last_sent_at {{ts}},
	last_error text NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL,
	CHECK (kind IN ('email', 'slack', 'teams'))
);
CREATE TABLE alerts (
	id {{id}},
	type varchar(40) NOT NULL,
	key varchar(200) NOT NULL,
	title text NOT NULL,
	detail text NOT NULL DEFAULT '',
	link text NOT NULL DEFAULT '',
	count integer NOT NULL DEFAULT 1,
	first_at {{ts}} NOT NULL,
	last_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX alerts_type_key ON alerts (type, key);
CREATE INDEX alerts_last ON alerts (last_at);
CREATE TABLE alert_notices (
	id {{id}},
	alert_id {{ref}} NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	channel_id {{ref}} NOT NULL REFERENCES alert_channels (id) ON DELETE CASCADE,
	notified_at {{ts}},
	notified_count integer NOT NULL DEFAULT 0,
	attempts integer NOT NULL DEFAULT 0,
	next_attempt_at {{ts}},
	last_error text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX alert_notices_once ON alert_notices (alert_id, channel_id);
`},
	{"202611270009_delivery_headers", `
ALTER TABLE webhook_deliveries ADD COLUMN request_headers text NOT NULL DEFAULT '';
`},
	{"202611270010_usage_events_lean", `
DROP INDEX usage_events_subscription;
`},
	{"202611270011_timeline_recent", `
CREATE INDEX timeline_at ON timeline_events (at, id);
`},
	{"202611270012_staff_invites", `
CREATE TABLE staff_invites (
	id {{id}},
	email varchar(320) NOT NULL,
	name text NOT NULL DEFAULT '',
	role varchar(32) NOT NULL,
	token_hash varchar(64) NOT NULL,
	created_by varchar(320) NOT NULL DEFAULT '',
	expires_at {{ts}} NOT NULL,
	used_at {{ts}},
	used_by {{ref}} REFERENCES users (id) ON DELETE SET NULL,
	revoked_at {{ts}},
	created_at {{ts}} NOT NULL,
	CHECK (role IN ('admin', 'operator', 'viewer'))
);
CREATE UNIQUE INDEX staff_invites_token ON staff_invites (token_hash);
CREATE INDEX staff_invites_created ON staff_invites (created_at);
`},
	// AWS SaaS subscriptions that are not contracts meter the product's
	// dimensions from the start: give those stored without a plan their
	// offer's default plan (its first), as events now do.
	{"202612030013_aws_default_plans", `
UPDATE subscriptions SET plan_id = (SELECT MIN(p.id) FROM plans p WHERE p.offer_id = subscriptions.offer_id), version = version + 1
WHERE marketplace = 'aws' AND plan_id IS NULL
	AND offer_id IN (SELECT id FROM offers WHERE marketplace = 'aws' AND NOT contract)
	AND EXISTS (SELECT 1 FROM plans p WHERE p.offer_id = subscriptions.offer_id);
`},
	{"202612030015_aws_agreement_terms", `
ALTER TABLE aws_agreements ADD COLUMN terms_status varchar(16) NOT NULL DEFAULT '';
ALTER TABLE aws_agreements ADD COLUMN terms_error varchar(512) NOT NULL DEFAULT '';
ALTER TABLE aws_agreements ADD COLUMN terms_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE aws_agreements ADD COLUMN terms_next_at {{ts}};
ALTER TABLE aws_agreements ADD COLUMN terms_read_at {{ts}};
ALTER TABLE aws_agreements ADD COLUMN free_trial_days integer;
ALTER TABLE aws_agreements ADD COLUMN free_trial_ends_at {{ts}};
CREATE INDEX aws_agreements_terms ON aws_agreements (terms_status, terms_next_at);
`},
	// Microsoft fidelity: plans learned from Microsoft wait for the seller's
	// review; the term unit as Microsoft sent it; the answer a webhook call
	// got, so a redelivery gets the same one.
	{"202612030017_azure_fidelity", `
ALTER TABLE plans ADD COLUMN needs_review {{bool}} NOT NULL DEFAULT FALSE;
ALTER TABLE subscriptions ADD COLUMN term_unit varchar(32) NOT NULL DEFAULT '';
ALTER TABLE inbox_messages ADD COLUMN answer_status integer NOT NULL DEFAULT 0;
ALTER TABLE inbox_messages ADD COLUMN answer_body text NOT NULL DEFAULT '';
`},
	// GetEntitlements may list one dimension more than once (an expired
	// grant beside the current one): every grant is stored as AWS returns it.
	{"202612030014_entitlement_grants", `
DROP INDEX entitlements_dimension;
CREATE INDEX entitlements_subscription_dimension ON entitlements (subscription_id, dimension);
`},
	// What set a subscription's state: an entitlement read may undo an end
	// that a read made (an expired contract renewed), never a cancellation.
	{"202612030014_subscription_state_kind", `
ALTER TABLE subscriptions ADD COLUMN state_kind varchar(64) NOT NULL DEFAULT '';
`},
	{"202612030018_throttles", `
CREATE TABLE throttles (
	key varchar(100) PRIMARY KEY,
	count integer NOT NULL DEFAULT 0,
	first_at {{ts}} NOT NULL,
	last_at {{ts}} NOT NULL,
	blocked_until {{ts}}
);
CREATE INDEX throttles_last ON throttles (last_at);
`},
	{"202612030018_retention", `
CREATE INDEX azure_sign_ins_expires ON azure_sign_ins (expires_at);
CREATE INDEX onboarding_tickets_expires ON onboarding_tickets (expires_at);
UPDATE inbox_messages SET body = 'x-amzn-marketplace-token=%28not+stored%29' WHERE source = 'aws_registration';
UPDATE azure_sign_ins SET purchase_token = '' WHERE used_at IS NOT NULL;
`},
	{"202612030018_sessions_hashed", `
DELETE FROM sessions;
`},
	// Issue 15: two-factor authentication (TOTP and recovery codes) for
	// password accounts, single sign-on (OIDC) subjects, and e-mail
	// addresses verified before they become an account's identity.
	{"202612030019_two_factor_sso_email_verification", `
ALTER TABLE users ADD COLUMN totp_secret text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_pending_secret text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_enabled_at {{ts}};
ALTER TABLE users ADD COLUMN totp_last_step bigint NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN oidc_subject text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX users_oidc_subject ON users (oidc_subject) WHERE oidc_subject <> '';
CREATE TABLE recovery_codes (
	id {{id}},
	user_id {{ref}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	code_hash varchar(64) NOT NULL,
	used_at {{ts}},
	created_at {{ts}} NOT NULL
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);
CREATE TABLE email_verifications (
	id {{id}},
	token_hash varchar(64) NOT NULL,
	purpose varchar(32) NOT NULL,
	email varchar(320) NOT NULL,
	ticket_id {{ref}} REFERENCES onboarding_tickets (id) ON DELETE CASCADE,
	data text NOT NULL DEFAULT '',
	expires_at {{ts}} NOT NULL,
	used_at {{ts}},
	created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX email_verifications_token ON email_verifications (token_hash);
CREATE INDEX email_verifications_expires ON email_verifications (expires_at);
`},
	// One table for both kinds of invitation (staff, customer admin),
	// read and written by server/invitations. The rows of admin_invites
	// and staff_invites are copied (new ids; a Microsoft sign-in under
	// way for a customer-admin invitation is pointed at its copy, matched
	// by the token's hash). The old tables are left as they are, read by
	// nothing, so a later release can drop them once this one is out.
	{"202612030021_invitations", `
CREATE TABLE invitations (
	id {{id}},
	kind varchar(16) NOT NULL,
	customer_id {{ref}} REFERENCES customers (id) ON DELETE CASCADE,
	email varchar(320) NOT NULL,
	name text NOT NULL DEFAULT '',
	role varchar(32) NOT NULL,
	token_hash varchar(64) NOT NULL,
	created_by varchar(320) NOT NULL DEFAULT '',
	expires_at {{ts}} NOT NULL,
	used_at {{ts}},
	used_by {{ref}} REFERENCES users (id) ON DELETE SET NULL,
	revoked_at {{ts}},
	created_at {{ts}} NOT NULL,
	CHECK ((kind = 'staff' AND customer_id IS NULL AND role IN ('admin', 'operator', 'viewer'))
		OR (kind = 'customer_admin' AND customer_id IS NOT NULL AND role = 'customer_admin'))
);
CREATE UNIQUE INDEX invitations_token ON invitations (token_hash);
CREATE INDEX invitations_kind_created ON invitations (kind, created_at);
CREATE INDEX invitations_customer ON invitations (customer_id, created_at) WHERE customer_id IS NOT NULL;
INSERT INTO invitations (kind, customer_id, email, name, role, token_hash, created_by, expires_at, used_at, used_by, revoked_at, created_at)
	SELECT 'customer_admin', customer_id, email, '', 'customer_admin', token_hash, created_by, expires_at, used_at, used_by, revoked_at, created_at
	FROM admin_invites ORDER BY id;
INSERT INTO invitations (kind, customer_id, email, name, role, token_hash, created_by, expires_at, used_at, used_by, revoked_at, created_at)
	SELECT 'staff', NULL, email, name, role, token_hash, created_by, expires_at, used_at, used_by, revoked_at, created_at
	FROM staff_invites ORDER BY id;
UPDATE azure_sign_ins SET invite_id = (SELECT i.id FROM invitations i JOIN admin_invites a ON a.token_hash = i.token_hash
	WHERE a.id = azure_sign_ins.invite_id AND i.kind = 'customer_admin')
	WHERE invite_id IS NOT NULL;
`},
	// The organisation's registration information its customer admins can
	// correct in the customer portal: a billing and a technical contact.
	{"202612030030_customer_contacts", `
ALTER TABLE customers ADD COLUMN billing_contact_name text NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN billing_contact_email varchar(320) NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN billing_contact_phone varchar(64) NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN technical_contact_name text NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN technical_contact_email varchar(320) NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN technical_contact_phone varchar(64) NOT NULL DEFAULT '';
`},
	// Issue 17: changes a customer admin asks for (plan, seats,
	// unsubscribe), each performed at once, waiting for the seller, or
	// answered. One waiting or running request per subscription and kind;
	// an Idempotency-Key names one request per subscription.
	{"202612030040_change_requests", `
CREATE TABLE change_requests (
	id {{id}},
	subscription_id {{ref}} NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
	customer_id {{ref}} NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	marketplace varchar(8) NOT NULL,
	kind varchar(16) NOT NULL,
	plan_id varchar(64) NOT NULL DEFAULT '',
	quantity integer NOT NULL DEFAULT 0,
	note text NOT NULL DEFAULT '',
	status varchar(16) NOT NULL,
	idempotency_key varchar(128) NOT NULL DEFAULT '',
	requested_by varchar(320) NOT NULL DEFAULT '',
	decided_by varchar(320) NOT NULL DEFAULT '',
	decided_at {{ts}},
	answer text NOT NULL DEFAULT '',
	operation_id varchar(64) NOT NULL DEFAULT '',
	error text NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL,
	CHECK (kind IN ('plan', 'seats', 'unsubscribe')),
	CHECK (status IN ('pending', 'performing', 'performed', 'approved', 'declined', 'failed'))
);
CREATE UNIQUE INDEX change_requests_open ON change_requests (subscription_id, kind) WHERE status IN ('pending', 'performing');
CREATE UNIQUE INDEX change_requests_idempotency ON change_requests (subscription_id, idempotency_key) WHERE idempotency_key <> '';
CREATE INDEX change_requests_status ON change_requests (status, created_at);
CREATE INDEX change_requests_customer ON change_requests (customer_id, created_at);
`},
	// What a customer admin may change from the customer portal, per plan
	// and kind: allowed, approval (the seller decides) or not_allowed.
	// Existing plans need the seller's approval for all three until the
	// seller chooses (the conservative default).
	{"202612030041_plan_change_policies", `
ALTER TABLE plans ADD COLUMN customer_plan_change varchar(16) NOT NULL DEFAULT 'approval';
ALTER TABLE plans ADD COLUMN customer_seat_change varchar(16) NOT NULL DEFAULT 'approval';
ALTER TABLE plans ADD COLUMN customer_unsubscribe varchar(16) NOT NULL DEFAULT 'approval';
`},
	// Issue 17: the extra permissions (Microsoft Graph or the seller's own
	// API) an offer's app needs after activation, each with the reason the
	// customer is shown; the Entra admin-consent requests a customer admin
	// starts (the state's hash, bound to their session and subscription,
	// single use, expiring); the outcome per Microsoft tenant. And where a
	// customer's name came from (Microsoft Graph's organisation, the
	// e-mail domain, the tenant id, or a person).
	{"202612030045_offer_permissions_admin_consent", `
CREATE TABLE offer_permissions (
	id {{id}},
	offer_id {{ref}} NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
	scope varchar(500) NOT NULL,
	reason text NOT NULL DEFAULT '',
	position integer NOT NULL DEFAULT 0,
	created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX offer_permissions_scope ON offer_permissions (offer_id, scope);
CREATE TABLE consent_requests (
	id {{id}},
	state_hash varchar(64) NOT NULL,
	user_id {{ref}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	session_hash varchar(64) NOT NULL,
	subscription_id {{ref}} NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
	tenant_id varchar(64) NOT NULL,
	scopes text NOT NULL,
	expires_at {{ts}} NOT NULL,
	used_at {{ts}},
	created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX consent_requests_state ON consent_requests (state_hash);
CREATE INDEX consent_requests_expires ON consent_requests (expires_at);
CREATE TABLE tenant_consents (
	id {{id}},
	tenant_id varchar(64) NOT NULL,
	status varchar(16) NOT NULL CHECK (status IN ('granted', 'declined')),
	scopes text NOT NULL DEFAULT '',
	granted_scopes text NOT NULL DEFAULT '',
	error varchar(100) NOT NULL DEFAULT '',
	error_description text NOT NULL DEFAULT '',
	decided_by_user_id {{ref}} REFERENCES users (id) ON DELETE SET NULL,
	decided_by varchar(320) NOT NULL DEFAULT '',
	subscription_id {{ref}} REFERENCES subscriptions (id) ON DELETE SET NULL,
	decided_at {{ts}} NOT NULL,
	granted_at {{ts}},
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX tenant_consents_tenant ON tenant_consents (tenant_id);
ALTER TABLE customers ADD COLUMN name_source varchar(32) NOT NULL DEFAULT '';
`},
	// Issue 17: the seller's branding of an offer's buyer-facing pages, and
	// the language an invitation was written in (its e-mail and page).
	{"202612030050_offer_branding", `
ALTER TABLE offers ADD COLUMN brand_name text NOT NULL DEFAULT '';
ALTER TABLE offers ADD COLUMN brand_logo text NOT NULL DEFAULT '';
ALTER TABLE offers ADD COLUMN brand_accent varchar(7) NOT NULL DEFAULT '';
ALTER TABLE offers ADD COLUMN support_email varchar(320) NOT NULL DEFAULT '';
ALTER TABLE offers ADD COLUMN support_url text NOT NULL DEFAULT '';
ALTER TABLE offers ADD COLUMN getting_started text NOT NULL DEFAULT '';
`},
	{"202612030051_invitation_language", `
ALTER TABLE invitations ADD COLUMN language varchar(8) NOT NULL DEFAULT '';
`},
	// Issue 20: money actions on AWS agreements (refunds, cancellation
	// requests, payment requests), each stored with AWS's ClientToken
	// before AWS is called, and its status history.
	{"202612030070_agreement_requests", `
CREATE TABLE agreement_requests (
	id {{id}},
	subscription_id {{ref}} NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
	customer_id {{ref}} REFERENCES customers (id) ON DELETE SET NULL,
	agreement_id varchar(64) NOT NULL,
	kind varchar(16) NOT NULL,
	client_token varchar(64) NOT NULL,
	idempotency_key varchar(128) NOT NULL DEFAULT '',
	external_id varchar(64) NOT NULL DEFAULT '',
	status varchar(16) NOT NULL,
	aws_status varchar(24) NOT NULL DEFAULT '',
	amount varchar(32) NOT NULL DEFAULT '',
	currency varchar(3) NOT NULL DEFAULT '',
	invoice_id varchar(255) NOT NULL DEFAULT '',
	term_id varchar(64) NOT NULL DEFAULT '',
	reason_code varchar(64) NOT NULL DEFAULT '',
	name varchar(64) NOT NULL DEFAULT '',
	note text NOT NULL DEFAULT '',
	status_message text NOT NULL DEFAULT '',
	error_code varchar(64) NOT NULL DEFAULT '',
	error text NOT NULL DEFAULT '',
	charge_id varchar(64) NOT NULL DEFAULT '',
	requested_by varchar(320) NOT NULL DEFAULT '',
	withdrawn_by varchar(320) NOT NULL DEFAULT '',
	attempts integer NOT NULL DEFAULT 0,
	next_check_at {{ts}},
	respond_by {{ts}},
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL,
	CHECK (kind IN ('refund', 'cancellation', 'payment')),
	CHECK (status IN ('sending', 'pending', 'completed', 'approved', 'rejected', 'withdrawn', 'failed'))
);
CREATE UNIQUE INDEX agreement_requests_token ON agreement_requests (client_token);
CREATE UNIQUE INDEX agreement_requests_idempotency ON agreement_requests (subscription_id, kind, idempotency_key) WHERE idempotency_key <> '';
CREATE INDEX agreement_requests_due ON agreement_requests (status, next_check_at);
CREATE INDEX agreement_requests_subscription ON agreement_requests (subscription_id, created_at);
CREATE INDEX agreement_requests_external ON agreement_requests (kind, external_id);
CREATE TABLE agreement_request_events (
	id {{id}},
	request_id {{ref}} NOT NULL REFERENCES agreement_requests (id) ON DELETE CASCADE,
	status varchar(16) NOT NULL,
	aws_status varchar(24) NOT NULL DEFAULT '',
	message text NOT NULL DEFAULT '',
	actor varchar(320) NOT NULL DEFAULT '',
	source varchar(16) NOT NULL DEFAULT '',
	at {{ts}} NOT NULL
);
CREATE INDEX agreement_request_events_request ON agreement_request_events (request_id, at);
`},
	// Issue 20: the renewals view (what AWS said of each agreement's end
	// and renewal) and the cached answers of AWS's Agreement Service.
	{"202612030075_agreement_renewals", `
CREATE TABLE agreement_renewals (
	id {{id}},
	agreement_id varchar(128) NOT NULL,
	subscription_id {{ref}} REFERENCES subscriptions (id) ON DELETE SET NULL,
	ends_at {{ts}},
	days_before_end integer,
	auto_renew varchar(8) NOT NULL DEFAULT '',
	turned_off_by varchar(16) NOT NULL DEFAULT '',
	turned_off_at {{ts}},
	ending_at {{ts}},
	renewal_upcoming_at {{ts}},
	lockout_at {{ts}},
	terms_finalized_at {{ts}},
	last_event_at {{ts}},
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX agreement_renewals_agreement ON agreement_renewals (agreement_id);
CREATE INDEX agreement_renewals_ends ON agreement_renewals (ends_at);
CREATE INDEX agreement_renewals_subscription ON agreement_renewals (subscription_id);
CREATE TABLE aws_agreement_views (
	id {{id}},
	agreement_id varchar(128) NOT NULL,
	body text NOT NULL DEFAULT '',
	read_at {{ts}},
	error text NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX aws_agreement_views_agreement ON aws_agreement_views (agreement_id);
`},
	// Issue 18: an event id is unique within its dedup bucket (a 25-hour
	// slice of time, see store.UsageDedupBucket), so that new random ids
	// land at the index's right edge; events stored before keep bucket 0,
	// which ingestion still probes.
	{"202612030080_usage_dedup_buckets", `
ALTER TABLE usage_events ADD COLUMN dedup_bucket bigint NOT NULL DEFAULT 0;
DROP INDEX usage_events_event;
CREATE UNIQUE INDEX usage_events_dedup ON usage_events (dedup_bucket, event_id);
`},
	// Issue 18: the subscriptions' text search through the database's own
	// text index (search_index.go: FTS4 on SQLite, pg_trgm on Postgres).
	{"202612030085_subscription_search", ""},
	// Issue 18: the subscriptions list filtered by plan (or offer and
	// plan) in any of its sort orders reads an index in that order.
	{"202612030086_subscription_list_indexes", `
CREATE INDEX subscriptions_plan_updated ON subscriptions (plan_id, updated_at, id);
CREATE INDEX subscriptions_plan_quantity ON subscriptions (plan_id, quantity, id);
`},
	// Issue 18: dispatch claims the due records page by page, oldest hour
	// first: the pending ones in that order, without the settled ones.
	{"202612030087_metering_records_pending", `
CREATE INDEX metering_records_pending ON metering_records (hour, id) WHERE status = 'pending';
`},
	// The count of committed writes to the tables grants are read from, by
	// every process sharing the database (see GrantGeneration).
	{"202612040010_grant_generation", `
CREATE TABLE grant_generation (
	id integer PRIMARY KEY,
	n bigint NOT NULL
);
INSERT INTO grant_generation (id, n) VALUES (1, 0);
`},
	// Issue 18: no index holds usage event ids; each process holds the
	// dedup window's ids in memory (store/usage_seen.go). The bucket index
	// finds the window's rows at start-up (new rows land at its right edge).
	{"202612040020_usage_ids_in_memory", `
DROP INDEX usage_events_dedup;
CREATE INDEX usage_events_bucket ON usage_events (dedup_bucket);
`},
	// Issue 18: SQLite's text index also holds each digest's words, so
	// that a term with a whole word or a word's start in it reads that
	// word's list (search_plan.go: rarestWord).
	{"202612040030_search_words", ""},
	// Issue 18: on Postgres, an index of each digest's words beside the
	// trigram index (search_index.go: pgWordQuery).
	{"202612040040_search_words_postgres", ""},
	// Issue 18: usage naming a subscription by an AWS customer identifier
	// or a Microsoft tenant id is looked up by index, not by a scan of
	// every subscription (SubscriptionsForUsage).
	{"202612040050_usage_reference_indexes", `
CREATE INDEX subscriptions_aws_customer_identifier ON subscriptions (aws_customer_identifier) WHERE aws_customer_identifier <> '';
CREATE INDEX subscriptions_azure_tenant ON subscriptions (azure_tenant_id) WHERE azure_tenant_id <> '';
`},
	// Issue 18: the AWS account id and license ARN also by an index of the
	// rows that hold one, which SQLite's statistics price truly (the full
	// indexes, with '' in most rows, look like a scan's worth of rows per
	// value): the access check and usage's lookup read every reference
	// column this way (referenceIDsSQL).
	{"202612050010_reference_indexes_set", `
CREATE INDEX subscriptions_aws_account_set ON subscriptions (aws_customer_account_id) WHERE aws_customer_account_id <> '';
CREATE INDEX subscriptions_license_set ON subscriptions (aws_license_arn) WHERE aws_license_arn <> '';
`},
	// Issue 18: metering records counted by hour and status, kept in step
	// by triggers, for the metering health and metrics
	// (metering_counts.go).
	{"202612050020_metering_record_counts", ""},
	// Issue 18: the records list filtered by status (the metering page's
	// status filter and health cards) walks that status's records newest
	// first, rather than every record's entry in the hour index until a
	// page of them is found (a status with no record read them all).
	{"202612050030_metering_records_status_list", `
CREATE INDEX metering_records_status_list ON metering_records (status, hour, id);
`},
	// Issue 18: the audit log of one target (a subscription's, a user's)
	// newest first, rather than a walk of every entry until a page of its
	// own is found (550 ms at a million entries).
	{"202612050040_audit_target", `
CREATE INDEX audit_target ON audit_log (target_type, target_id, at, id);
`},
	// Issue 18: the inbound messages of one action (every Unsubscribe),
	// newest first and counted, by an index of their own.
	{"202612050050_inbox_action", `
CREATE INDEX inbox_action ON inbox_messages (action, received_at, id);
`},
	// Issue 18: on Postgres, the inbound messages' keys by trigram, for
	// the notification log's search (search_index.go).
	{"202612050060_inbox_key_trigrams", ""},
	// Issue 18: on SQLite, the inbound messages' keys by trigram in an
	// FTS4 table, for the same search (inbox_search.go).
	{"202612050070_inbox_key_search", ""},
	// Issue 18: on SQLite, both text indexes hold every character and
	// pair of characters too, for terms of one or two (shortGrams).
	{"202612050080_short_grams", ""},
	// Issue 18: on SQLite, the grams the subscriptions' text index holds,
	// so that a term none holds is answered without the index
	// (search_grams.go).
	{"202612060010_search_grams", ""},
	// Issue 18: the same of the inbound messages' keys.
	{"202612060020_inbox_key_grams", ""},
}

// goMigrations are the migrations written per dialect in Go (their SQL
// above is empty): statements SQLite and Postgres do not share.
var goMigrations = map[string]func(dialect string, tx *gorm.DB) error{
	"202612030085_subscription_search":    migrateSearchIndex,
	"202612040030_search_words":           migrateSearchWords,
	"202612040040_search_words_postgres":  migrateSearchWordsPostgres,
	"202612050020_metering_record_counts": migrateMeteringRecordCounts,
	"202612050060_inbox_key_trigrams":     migrateInboxKeyTrigrams,
	"202612050070_inbox_key_search":       migrateInboxKeySearch,
	"202612050080_short_grams":            migrateShortGrams,
	"202612060010_search_grams":           migrateSearchGrams,
	"202612060020_inbox_key_grams":        migrateInboxKeyGrams,
}

func (s *Store) dialectSQL(sql string) string {
	var r *strings.Replacer
	if s.Dialect == Postgres {
		r = strings.NewReplacer("{{id}}", "bigserial PRIMARY KEY", "{{ts}}", "timestamptz", "{{bool}}", "boolean", "{{ref}}", "bigint")
	} else {
		r = strings.NewReplacer("{{id}}", "integer PRIMARY KEY", "{{ts}}", "datetime", "{{bool}}", "boolean", "{{ref}}", "integer")
	}
	return r.Replace(sql)
}

func (s *Store) migrator() *gormigrate.Gormigrate {
	ms := make([]*gormigrate.Migration, 0, len(migrations))
	for _, m := range migrations {
		sql := s.dialectSQL(m.sql)
		ms = append(ms, &gormigrate.Migration{
			ID: m.id,
			Migrate: func(tx *gorm.DB) error {
				if fn := goMigrations[m.id]; fn != nil {
					return fn(s.Dialect, tx)
				}
				for _, stmt := range splitStatements(sql) {
					if err := tx.Exec(stmt).Error; err != nil {
						return fmt.Errorf("migration %s: %w", m.id, err)
					}
				}
				return nil
			},
		})
	}
	return gormigrate.New(s.w, &gormigrate.Options{
		TableName:                 "schema_migrations",
		IDColumnName:              "id",
		IDColumnSize:              255,
		UseTransaction:            true,
		ValidateUnknownMigrations: true,
	}, ms)
}

// Migrate applies every pending migration, then indexes the rows queued
// for the text indexes (written outside the store, by a bulk load, or
// requeued by a migration): the migrate command, and tests.
func (s *Store) Migrate() error {
	if err := s.MigrateSchema(); err != nil {
		return err
	}
	_, err := s.IndexPending(context.Background())
	return err
}

// MigrateSchema applies every pending migration and leaves the rows queued
// for the text indexes to IndexPending. serve starts this way and indexes
// them in the background: a migration that requeues every row (about five
// minutes at a million subscriptions and a million messages on SQLite)
// does not keep the server down, and a search meanwhile tests the rows
// still queued by LIKE (slower, never missing one).
func (s *Store) MigrateSchema() error {
	return s.migrator().Migrate()
}

// IndexPending indexes every subscription and message queued for the text
// indexes, adds the grams of the subscriptions indexed before the table of
// grams and merges the indexes' segments (SQLite; nothing on Postgres);
// it returns how many rows it indexed.
func (s *Store) IndexPending(ctx context.Context) (int, error) {
	a, err := s.IndexPendingSearch(ctx)
	if err != nil {
		return a, err
	}
	if _, err := s.FillSearchGrams(ctx); err != nil {
		return a, err
	}
	if _, err := s.FillInboxKeyGrams(ctx); err != nil {
		return a, err
	}
	b, err := s.IndexPendingInboxKeys(ctx)
	if err != nil {
		return a + b, err
	}
	if _, err := s.MergeSearchIndex(ctx, 0); err != nil {
		return a + b, err
	}
	_, err = s.MergeInboxKeyIndex(ctx, 0)
	return a + b, err
}

// PendingMigrations lists the migrations not applied yet.
func (s *Store) PendingMigrations() ([]string, error) {
	var done []string
	if s.w.Migrator().HasTable("schema_migrations") {
		if err := s.w.Table("schema_migrations").Pluck("id", &done).Error; err != nil {
			return nil, err
		}
	}
	applied := map[string]bool{}
	for _, id := range done {
		applied[id] = true
	}
	var pending []string
	for _, m := range migrations {
		if !applied[m.id] {
			pending = append(pending, m.id)
		}
	}
	return pending, nil
}

func splitStatements(sql string) []string {
	var out []string
	for _, st := range strings.Split(sql, ";") {
		if st = strings.TrimSpace(st); st != "" {
			out = append(out, st)
		}
	}
	return out
}
