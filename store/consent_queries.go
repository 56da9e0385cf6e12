package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Entra admin consent (issue 17): the extra permissions an offer's app
// needs, the consent requests customer admins start, and each Microsoft
// tenant's outcome.

// Where a customer's name came from.
const (
	NameFromGraph       = "graph_organization" // Microsoft Graph GET /organization: the tenant's displayName
	NameFromEmailDomain = "email_domain"       // the beneficiary's e-mail domain (nothing better known)
	NameFromTenantID    = "tenant_id"          // not even an e-mail: "Microsoft tenant …"
)

// NameIsGuess reports whether a customer's name was derived rather than
// learned or typed: a better source may replace it.
func NameIsGuess(source string) bool {
	return source == "" || source == NameFromEmailDomain || source == NameFromTenantID
}

// OfferPermission is one permission an offer's app asks for: a scope
// string (https://graph.microsoft.com/Directory.Read.All,
// api://<app-id>/.default, …) and the reason shown to the customer.
type OfferPermission struct {
	ID        uint `gorm:"primaryKey"`
	OfferID   uint
	Scope     string
	Reason    string
	Position  int
	CreatedAt time.Time
}

// ConsentRequest is an admin-consent round trip a customer admin started:
// only the state's hash is stored; it is bound to the user, their session
// and the subscription, works once and expires.
type ConsentRequest struct {
	ID             uint `gorm:"primaryKey"`
	StateHash      string
	UserID         uint
	SessionHash    string
	SubscriptionID uint
	TenantID       string
	Scopes         string // space-separated, as sent to Entra
	ExpiresAt      time.Time
	UsedAt         *time.Time
	CreatedAt      time.Time
}

// Consent statuses of a tenant.
const (
	ConsentGranted  = "granted"
	ConsentDeclined = "declined"
)

// TenantConsent is a Microsoft tenant's latest admin-consent outcome.
// GrantedScopes gathers every scope ever granted (a later decline does not
// revoke a grant at Entra).
type TenantConsent struct {
	ID               uint `gorm:"primaryKey"`
	TenantID         string
	Status           string
	Scopes           string // space-separated: the scopes of the latest decision
	GrantedScopes    string // space-separated
	Error            string
	ErrorDescription string
	DecidedByUserID  *uint
	DecidedBy        string
	SubscriptionID   *uint
	DecidedAt        time.Time
	GrantedAt        *time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

func orderPermissions(db *gorm.DB) *gorm.DB { return db.Order("position, id") }

// OfferPermissions lists an offer's permissions in their order.
func (t *Tx) OfferPermissions(offerID uint) ([]OfferPermission, error) {
	var out []OfferPermission
	err := orderPermissions(t.db.Where("offer_id = ?", offerID)).Find(&out).Error
	return out, err
}

// ReplaceOfferPermissions sets an offer's permissions (in the given order).
func (s *Store) ReplaceOfferPermissions(ctx context.Context, offerID uint, perms []OfferPermission, now time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		if err := tx.db.Where("offer_id = ?", offerID).Delete(&OfferPermission{}).Error; err != nil {
			return err
		}
		for i := range perms {
			perms[i].ID, perms[i].OfferID, perms[i].Position, perms[i].CreatedAt = 0, offerID, i, now
		}
		if len(perms) == 0 {
			return nil
		}
		return conflictOnDuplicate(tx.db.Create(&perms).Error)
	})
}

// CreateConsentRequest stores a started admin-consent request.
func (t *Tx) CreateConsentRequest(r *ConsentRequest) error { return t.db.Create(r).Error }

// ConsentRequestByState finds an unused, unexpired request by its state's
// hash (ErrNotFound otherwise).
func (t *Tx) ConsentRequestByState(stateHash string, now time.Time) (*ConsentRequest, error) {
	var r ConsentRequest
	err := t.db.Where("state_hash = ? AND used_at IS NULL AND expires_at > ?", stateHash, now).First(&r).Error
	if err != nil {
		return nil, notFound(err)
	}
	return &r, nil
}

// UseConsentRequest marks a request used, once: ErrNotFound when it was
// used meanwhile or has expired.
func (t *Tx) UseConsentRequest(id uint, now time.Time) error {
	r := t.db.Model(&ConsentRequest{}).Where("id = ? AND used_at IS NULL AND expires_at > ?", id, now).Update("used_at", now)
	if r.Error != nil {
		return r.Error
	}
	if r.RowsAffected != 1 {
		return ErrNotFound
	}
	return nil
}

// DeleteExpiredConsentRequests removes requests that can no longer be used.
func (t *Tx) DeleteExpiredConsentRequests(now time.Time) error {
	return t.db.Where("expires_at <= ?", now).Delete(&ConsentRequest{}).Error
}

// TenantConsentOf returns a tenant's consent outcome (nil when none).
func (t *Tx) TenantConsentOf(tenantID string) (*TenantConsent, error) {
	var c TenantConsent
	err := t.db.Where("tenant_id = ?", strings.ToLower(tenantID)).Limit(1).Find(&c).Error
	if err != nil || c.ID == 0 {
		return nil, err
	}
	return &c, nil
}

// RecordTenantConsent writes a tenant's latest decision (in the caller's
// transaction): a grant adds its scopes to those granted before.
func (t *Tx) RecordTenantConsent(d TenantConsent) (*TenantConsent, error) {
	d.TenantID = strings.ToLower(d.TenantID)
	cur, err := t.TenantConsentOf(d.TenantID)
	if err != nil {
		return nil, err
	}
	now := d.DecidedAt
	if cur == nil {
		cur = &TenantConsent{TenantID: d.TenantID, CreatedAt: now}
	}
	granted := strings.Fields(cur.GrantedScopes)
	if d.Status == ConsentGranted {
		for _, sc := range strings.Fields(d.Scopes) {
			if !containsFold(granted, sc) {
				granted = append(granted, sc)
			}
		}
		at := now
		cur.GrantedAt = &at
	}
	cur.Status, cur.Scopes, cur.GrantedScopes = d.Status, d.Scopes, strings.Join(granted, " ")
	cur.Error, cur.ErrorDescription = d.Error, d.ErrorDescription
	cur.DecidedByUserID, cur.DecidedBy, cur.SubscriptionID, cur.DecidedAt, cur.UpdatedAt = d.DecidedByUserID, d.DecidedBy, d.SubscriptionID, now, now
	if cur.ID == 0 {
		err = t.db.Create(cur).Error
	} else {
		err = t.db.Save(cur).Error
	}
	return cur, err
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// SetCustomerName renames a customer whose name is still a guess (see
// NameIsGuess), recording the name's source; a name someone typed or
// learned earlier stays. It reports whether it changed the name.
func (t *Tx) SetCustomerName(customerID uint, name, source string, now time.Time) (bool, error) {
	var cu Customer
	if err := t.db.First(&cu, customerID).Error; err != nil {
		return false, notFound(err)
	}
	if !NameIsGuess(cu.NameSource) || (cu.Name == name && cu.NameSource == source) {
		return false, nil
	}
	r := t.db.Model(&Customer{}).Where("id = ?", customerID).Updates(map[string]any{"name": name, "name_source": source, "updated_at": now})
	return r.Error == nil && r.RowsAffected == 1, r.Error
}

// SubscriptionForConsent returns a subscription with its offer (and the
// offer's permissions) and customer.
func (t *Tx) SubscriptionForConsent(id uint) (*Subscription, error) {
	var s Subscription
	err := t.db.Preload("Offer").Preload("Offer.Permissions", orderPermissions).Preload("Customer").First(&s, id).Error
	if err != nil {
		return nil, notFound(err)
	}
	return &s, nil
}

// ErrNoTenant: the subscription names no Microsoft tenant.
var ErrNoTenant = errors.New("the subscription has no Microsoft tenant")
