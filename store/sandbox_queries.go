package store

import "context"

// The queries of the sandbox's buyer pages (server/sandbox/console).

// SandboxPlans returns an offer's plans, oldest first.
func (s *Store) SandboxPlans(ctx context.Context, offerID uint) ([]Plan, error) {
	var plans []Plan
	err := s.r.WithContext(ctx).Where("offer_id = ?", offerID).Order("id").Find(&plans).Error
	return plans, err
}

// SandboxOffer returns one offer of a marketplace with its plans.
func (s *Store) SandboxOffer(ctx context.Context, marketplace string, id uint) (*Offer, error) {
	var offer Offer
	if err := s.r.WithContext(ctx).Preload("Plans").Where("id = ? AND marketplace = ?", id, marketplace).First(&offer).Error; err != nil {
		return nil, notFound(err)
	}
	return &offer, nil
}

// SandboxOffers returns a marketplace's offers with their plans, oldest first.
func (s *Store) SandboxOffers(ctx context.Context, marketplace string) ([]Offer, error) {
	var offers []Offer
	err := s.r.WithContext(ctx).Preload("Plans").Where("marketplace = ?", marketplace).Order("id").Find(&offers).Error
	return offers, err
}

// SandboxRecentSubscriptions returns a marketplace's last changed
// subscriptions (without their relations), at most limit.
func (s *Store) SandboxRecentSubscriptions(ctx context.Context, marketplace string, limit int) ([]Subscription, error) {
	var subs []Subscription
	err := s.r.WithContext(ctx).Where("marketplace = ?", marketplace).Order("updated_at DESC").Limit(limit).Find(&subs).Error
	return subs, err
}

// SandboxSubscription returns one subscription without its relations.
func (s *Store) SandboxSubscription(ctx context.Context, id uint) (*Subscription, error) {
	var sub Subscription
	if err := s.r.WithContext(ctx).First(&sub, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &sub, nil
}

// SandboxLatestAgreement returns a subscription's running AWS agreement,
// else its last one (zero when it has none).
func (s *Store) SandboxLatestAgreement(ctx context.Context, subscriptionID uint) (AWSAgreement, error) {
	var ag AWSAgreement
	err := s.r.WithContext(ctx).Where("subscription_id = ?", subscriptionID).Order("ended_at IS NOT NULL, id DESC").Limit(1).Find(&ag).Error
	return ag, err
}

// SandboxAgreements returns every AWS agreement linked to a subscription,
// for the simulated Agreement Service to answer for after a restart.
func (s *Store) SandboxAgreements(ctx context.Context) ([]AWSAgreement, error) {
	var out []AWSAgreement
	err := s.r.WithContext(ctx).Where("subscription_id IS NOT NULL").Order("id").Find(&out).Error
	return out, err
}
