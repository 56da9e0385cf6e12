package store

import "time"

// Current reports whether the grant is valid at t: it has no expiry, or
// expires after t (AWS: "a past date … means not entitled").
func (e Entitlement) Current(t time.Time) bool { return e.ExpiresAt == nil || e.ExpiresAt.After(t) }

// BestEntitlement picks, among the stored grants of one dimension (AWS may
// list an expired grant beside the current one), the grant that decides
// access at now: a current one before an expired one; among current ones
// the largest integer value, among expired ones the latest expiry. It
// returns nil when there is none.
func BestEntitlement(grants []Entitlement, now time.Time) *Entitlement {
	var best *Entitlement
	better := func(a, b *Entitlement) bool { // a better than b
		if ac, bc := a.Current(now), b.Current(now); ac != bc {
			return ac
		}
		if a.Current(now) {
			av, bv := int64(-1), int64(-1)
			if a.IntegerValue != nil {
				av = *a.IntegerValue
			}
			if b.IntegerValue != nil {
				bv = *b.IntegerValue
			}
			return av > bv
		}
		return a.ExpiresAt != nil && (b.ExpiresAt == nil || a.ExpiresAt.After(*b.ExpiresAt))
	}
	for i := range grants {
		if best == nil || better(&grants[i], best) {
			best = &grants[i]
		}
	}
	return best
}
