package store

import "time"

// The customer-admin invitations of Microsoft purchases (the beneficiary
// invited when the purchaser cannot administer the subscription), as
// server/api's azureInvitations keeps them.

// PendingAdminInviteEmails lists up to limit addresses invited to
// administer a customer whose invitation is still open at now.
func (t *Tx) PendingAdminInviteEmails(customerID uint, now time.Time, limit int) ([]string, error) {
	var out []string
	err := t.db.Model(&AdminInvite{}).Where("customer_id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?", customerID, now).
		Order("id").Limit(limit).Pluck("email", &out).Error
	return out, err
}

// CreateBeneficiaryInvite stores the invitation of a Microsoft
// purchase's beneficiary to administer its customer.
func (t *Tx) CreateBeneficiaryInvite(inv *AdminInvite) error { return t.db.Create(inv).Error }

// RevokeBeneficiaryInvite revokes an invitation (its e-mail was not sent).
func (t *Tx) RevokeBeneficiaryInvite(id uint, at time.Time) error {
	return t.db.Model(&AdminInvite{}).Where("id = ?", id).Update("revoked_at", at).Error
}
