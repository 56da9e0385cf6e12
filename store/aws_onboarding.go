package store

import "time"

// The queries of the AWS buyer's onboarding (server/awsmp): the form that
// creates the organisation and its first administrator from a ticket.

// UseOnboardingTicket marks a ticket used; ErrTicketUsed when another
// request used it first.
func (t *Tx) UseOnboardingTicket(id uint, now time.Time) error { return UseTicket(t.db, id, now) }

// OnboardingParties reads the subscription a ticket is for and its
// customer (an unsaved, empty Customer when it has none yet).
func (t *Tx) OnboardingParties(subID uint) (*Subscription, *Customer, error) {
	var sub Subscription
	if err := t.db.First(&sub, subID).Error; err != nil {
		return nil, nil, notFound(err)
	}
	var cust Customer
	if sub.CustomerID != nil {
		if err := t.db.First(&cust, *sub.CustomerID).Error; err != nil {
			return nil, nil, notFound(err)
		}
	}
	return &sub, &cust, nil
}

// SaveOnboardingCustomer stores the onboarded customer (created when new).
func (t *Tx) SaveOnboardingCustomer(c *Customer) error { return t.db.Save(c).Error }

// CreateOnboardingAdmin creates the organisation's first administrator; a
// unique violation (IsUniqueViolation) means the e-mail address is taken.
func (t *Tx) CreateOnboardingAdmin(u *User) error { return t.db.Create(u).Error }

// OnboardingTicketByID reads a ticket, used or not; ErrNotFound when there
// is none.
func (t *Tx) OnboardingTicketByID(id uint) (*OnboardingTicket, error) {
	var tk OnboardingTicket
	if err := t.db.First(&tk, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &tk, nil
}

// DeleteSpentEmailVerifications removes the verification links used or
// expired by now (their data holds a chosen password's hash).
func (t *Tx) DeleteSpentEmailVerifications(now time.Time) error {
	return t.db.Where("expires_at < ? OR used_at IS NOT NULL", now).Delete(&EmailVerification{}).Error
}

// CreateEmailVerification stores a verification link (its token hashed).
func (t *Tx) CreateEmailVerification(v *EmailVerification) error { return t.db.Create(v).Error }

// EmailVerificationByToken reads the verification link of a token for a
// purpose, used or expired included; ErrNotFound when there is none.
func (t *Tx) EmailVerificationByToken(token, purpose string) (*EmailVerification, error) {
	var v EmailVerification
	if err := t.db.Where("token_hash = ? AND purpose = ?", hashToken(token), purpose).First(&v).Error; err != nil {
		return nil, notFound(err)
	}
	return &v, nil
}

// UseEmailVerification marks a verification link used and forgets its
// data; false when another request used it first.
func (t *Tx) UseEmailVerification(id uint, now time.Time) (bool, error) {
	r := t.db.Model(&EmailVerification{}).Where("id = ? AND used_at IS NULL", id).Updates(map[string]any{"used_at": now, "data": ""})
	return r.RowsAffected == 1, r.Error
}
