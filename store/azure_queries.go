package store

import (
	"time"

	"gorm.io/gorm/clause"
)

// The queries of Microsoft's marketplace (server/azuremp): its catalog
// entries, the customers and customer admins of Entra tenants, the
// operations Marketgate follows and Microsoft's notifications in the inbox.
// Methods that return one row answer ErrNotFound when there is none.

// ---- catalog ----

// AzureOffer returns the Microsoft offer with Microsoft's offer id.
func (t *Tx) AzureOffer(offerID string) (*Offer, error) {
	var o Offer
	if err := t.db.Where("marketplace = 'azure' AND marketplace_id = ?", offerID).Limit(1).Find(&o).Error; err != nil {
		return nil, err
	}
	if o.ID == 0 {
		return nil, ErrNotFound
	}
	return &o, nil
}

// CreateAzureOffer adds an offer to the catalog.
func (t *Tx) CreateAzureOffer(o *Offer) error { return t.db.Create(o).Error }

// AzurePlan returns the plan of one of our offers with Microsoft's plan id.
func (t *Tx) AzurePlan(offerID uint, planID string) (*Plan, error) {
	var p Plan
	if err := t.db.Where("offer_id = ? AND plan_id = ?", offerID, planID).Limit(1).Find(&p).Error; err != nil {
		return nil, err
	}
	if p.ID == 0 {
		return nil, ErrNotFound
	}
	return &p, nil
}

// CreateAzurePlan adds a plan to the catalog.
func (t *Tx) CreateAzurePlan(p *Plan) error { return t.db.Create(p).Error }

// AddAzurePlanOnce adds a plan unless its offer has a plan with that plan
// id already (then nothing changes, and no error).
func (t *Tx) AddAzurePlanOnce(p *Plan) error {
	return t.db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "offer_id"}, {Name: "plan_id"}}, DoNothing: true}).Create(p).Error
}

// AzurePlanIDs lists the plan ids the catalog knows for Microsoft's offer id.
func (t *Tx) AzurePlanIDs(offerID string) ([]string, error) {
	var known []string
	err := t.db.Model(&Plan{}).Joins("JOIN offers ON offers.id = plans.offer_id").
		Where("offers.marketplace = 'azure' AND offers.marketplace_id = ?", offerID).Pluck("plans.plan_id", &known).Error
	return known, err
}

// ---- customers and their admins ----

// AzureCustomer returns the (first) customer of an Entra tenant.
func (t *Tx) AzureCustomer(tenantID string) (*Customer, error) {
	var c Customer
	if err := t.db.Where("azure_tenant_id = ?", tenantID).Order("id").Limit(1).Find(&c).Error; err != nil {
		return nil, err
	}
	if c.ID == 0 {
		return nil, ErrNotFound
	}
	return &c, nil
}

// CreateAzureCustomer adds the customer of an Entra tenant.
func (t *Tx) CreateAzureCustomer(c *Customer) error { return t.db.Create(c).Error }

// UserByEntraObjectID returns the (first) account bound to an Entra object id.
func (t *Tx) UserByEntraObjectID(objectID string) (*User, error) {
	return t.firstUser("entra_object_id = ?", objectID)
}

// UserWithEmail returns the (first) account with an e-mail address
// (normalised here).
func (t *Tx) UserWithEmail(email string) (*User, error) {
	return t.firstUser("email = ?", NormalizeEmail(email))
}

func (t *Tx) firstUser(cond string, arg any) (*User, error) {
	var u User
	if err := t.db.Where(cond, arg).Order("id").Limit(1).Find(&u).Error; err != nil {
		return nil, err
	}
	if u.ID == 0 {
		return nil, ErrNotFound
	}
	return &u, nil
}

// BindEntraObjectID binds an account to an Entra object id.
func (t *Tx) BindEntraObjectID(userID uint, objectID string) error {
	return t.db.Model(&User{}).Where("id = ?", userID).Update("entra_object_id", objectID).Error
}

// CreateEntraUser adds an account made from an Entra sign-in.
func (t *Tx) CreateEntraUser(u *User) error { return t.db.Create(u).Error }

// CustomerAdminEmails lists up to limit e-mail addresses of a customer's
// enabled customer admins, oldest account first.
func (t *Tx) CustomerAdminEmails(customerID uint, limit int) ([]string, error) {
	var out []string
	err := t.db.Model(&User{}).Where("customer_id = ? AND role = ? AND NOT disabled", customerID, RoleCustomerAdmin).
		Order("id").Limit(limit).Pluck("email", &out).Error
	return out, err
}

// CountCustomerAdmins counts a customer's enabled customer admins.
func (t *Tx) CountCustomerAdmins(customerID uint) (int64, error) {
	var n int64
	err := t.db.Model(&User{}).Where("customer_id = ? AND role = ? AND NOT disabled", customerID, RoleCustomerAdmin).Count(&n).Error
	return n, err
}

// ---- subscriptions ----

// SubscriptionDetail returns one subscription with its customer, offer and
// plan (Store.GetSubscription inside a unit of work).
func (t *Tx) SubscriptionDetail(id uint) (*Subscription, error) {
	var sub Subscription
	if err := t.db.Preload("Customer").Preload("Offer").Preload("Plan").First(&sub, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &sub, nil
}

// AzureSubscription returns the subscription with Microsoft's
// subscription id, with its plan.
func (t *Tx) AzureSubscription(msSubID string) (*Subscription, error) {
	var sub Subscription
	if err := t.db.Preload("Plan").Where("azure_subscription_id = ?", msSubID).Limit(1).Find(&sub).Error; err != nil {
		return nil, err
	}
	if sub.ID == 0 {
		return nil, ErrNotFound
	}
	return &sub, nil
}

// AzureSubscriptionID is our id of the subscription with Microsoft's
// subscription id (0 when none is stored).
func (t *Tx) AzureSubscriptionID(msSubID string) (uint, error) {
	var id uint
	err := t.db.Model(&Subscription{}).Where("azure_subscription_id = ?", msSubID).Limit(1).Pluck("id", &id).Error
	return id, err
}

// ---- operations ----

// AzureOperationKnown says whether an operation is followed already.
func (t *Tx) AzureOperationKnown(operationID string) (bool, error) {
	var n int64
	err := t.db.Model(&AzureOperation{}).Where("operation_id = ?", operationID).Count(&n).Error
	return n > 0, err
}

// CreateAzureOperation starts following an operation.
func (t *Tx) CreateAzureOperation(op *AzureOperation) error { return t.db.Create(op).Error }

// AzureOperationByID returns a followed operation by Microsoft's id.
func (t *Tx) AzureOperationByID(operationID string) (*AzureOperation, error) {
	var op AzureOperation
	if err := t.db.Where("operation_id = ?", operationID).First(&op).Error; err != nil {
		return nil, notFound(err)
	}
	return &op, nil
}

// FinishAzureOperation closes a followed operation that is still open
// with its final status (and Microsoft's message); it reports whether it
// was open. A closed or unknown operation is left as it is.
func (t *Tx) FinishAzureOperation(operationID, status, message string) (bool, error) {
	now := t.now()
	r := t.db.Model(&AzureOperation{}).Where("operation_id = ? AND finished_at IS NULL", operationID).
		Updates(map[string]any{"status": status, "error_message": message, "finished_at": now, "next_poll_at": nil, "updated_at": now})
	return r.RowsAffected > 0, r.Error
}

// DueAzureOperations lists up to limit open operations due for a poll at
// now, the longest waiting first.
func (t *Tx) DueAzureOperations(now time.Time, limit int) ([]AzureOperation, error) {
	var due []AzureOperation
	err := t.db.Where("finished_at IS NULL AND next_poll_at <= ?", now).Order("next_poll_at").Limit(limit).Find(&due).Error
	return due, err
}

// PollAzureOperationLater records one more poll of an open operation,
// its status as last seen and when to poll next.
func (t *Tx) PollAzureOperationLater(id uint, attempts int, status string, next time.Time) error {
	return t.db.Model(&AzureOperation{}).Where("id = ?", id).
		Updates(map[string]any{"attempts": attempts, "next_poll_at": next, "status": status, "updated_at": t.now()}).Error
}

// ---- Microsoft notifications and landings in the inbox ----

// InboxByKey returns the first message of a source holding any of the
// dedup keys (one statement, so a key moved meanwhile is still found).
func (t *Tx) InboxByKey(source string, dedupKeys ...string) (*InboxMessage, error) {
	var m InboxMessage
	if err := t.db.Where("source = ? AND dedup_key IN ?", source, dedupKeys).Order("id").Limit(1).Find(&m).Error; err != nil {
		return nil, err
	}
	if m.ID == 0 {
		return nil, ErrNotFound
	}
	return &m, nil
}

// InboxIDWithKey is the id of another message (not exceptID) of a source
// holding a dedup key, 0 when none does.
func (t *Tx) InboxIDWithKey(source, dedupKey string, exceptID uint) (uint, error) {
	var id uint
	err := t.db.Model(&InboxMessage{}).Where("source = ? AND dedup_key = ? AND id <> ?", source, dedupKey, exceptID).
		Limit(1).Pluck("id", &id).Error
	return id, err
}

// SetInboxKey gives a message a new dedup key; a key another message of
// the source holds fails on the unique index.
func (t *Tx) SetInboxKey(id uint, dedupKey string) error {
	return t.db.Model(&InboxMessage{}).Where("id = ?", id).Update("dedup_key", dedupKey).Error
}

// LatestInboxOf returns a subscription's newest message from a source.
func (t *Tx) LatestInboxOf(subscriptionID uint, source string) (*InboxMessage, error) {
	var m InboxMessage
	if err := t.db.Where("subscription_id = ? AND source = ?", subscriptionID, source).Order("id DESC").Limit(1).Find(&m).Error; err != nil {
		return nil, err
	}
	if m.ID == 0 {
		return nil, ErrNotFound
	}
	return &m, nil
}

// ---- the buyer's Entra sign-in ----

// CreateAzureSignIn stores a sign-in on its way through Entra.
func (t *Tx) CreateAzureSignIn(si *AzureSignIn) error { return t.db.Create(si).Error }

// AzureSignInByState returns a sign-in by the hash of its state, used or not.
func (t *Tx) AzureSignInByState(stateHash string) (*AzureSignIn, error) {
	var si AzureSignIn
	if err := t.db.Where("state_hash = ?", stateHash).Limit(1).Find(&si).Error; err != nil {
		return nil, err
	}
	if si.ID == 0 {
		return nil, ErrNotFound
	}
	return &si, nil
}

// UseAzureSignIn marks a sign-in used, once and before it expires: it
// returns the sign-in when this call used it, ErrNotFound when it was
// used before, expired or never existed.
func (t *Tx) UseAzureSignIn(stateHash string, now time.Time) (*AzureSignIn, error) {
	r := t.db.Model(&AzureSignIn{}).Where("state_hash = ? AND used_at IS NULL AND expires_at > ?", stateHash, now).Update("used_at", now)
	if r.Error != nil {
		return nil, r.Error
	}
	if r.RowsAffected != 1 {
		return nil, ErrNotFound
	}
	var si AzureSignIn
	if err := t.db.Where("state_hash = ?", stateHash).First(&si).Error; err != nil {
		return nil, notFound(err)
	}
	return &si, nil
}

// ForgetPurchaseToken blanks a sign-in's purchase token once it is used.
func (t *Tx) ForgetPurchaseToken(id uint) error {
	return t.db.Model(&AzureSignIn{}).Where("id = ?", id).Update("purchase_token", "").Error
}
