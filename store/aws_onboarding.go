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
