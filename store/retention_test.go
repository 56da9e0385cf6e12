package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// Issue 15, findings 4 and 9: everything an anonymous visitor creates has a
// retention period. E-mail verification links (their data holds the chosen
// password's hash) go at the hourly sweep once used or expired, even when
// nobody starts another onboarding.
func TestPurgeRemovesUsedAndExpiredEmailVerifications(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
		st.Now = func() time.Time { return now }
		ctx := context.Background()
		used := now.Add(-time.Minute)
		for _, v := range []store.EmailVerification{
			{TokenHash: store.HashToken("live"), Email: "live@example.com", ExpiresAt: now.Add(time.Hour)},
			{TokenHash: store.HashToken("expired"), Email: "expired@example.com", ExpiresAt: now.Add(-time.Second)},
			{TokenHash: store.HashToken("used"), Email: "used@example.com", ExpiresAt: now.Add(time.Hour), UsedAt: &used},
		} {
			v.Purpose, v.Data, v.CreatedAt = "aws_onboarding", `{"password_hash":"x"}`, now.Add(-time.Hour)
			if err := st.TestingDB(t).Create(&v).Error; err != nil {
				t.Fatal(err)
			}
		}
		p, err := st.Purge(ctx, store.DefaultRetention)
		if err != nil {
			t.Fatal(err)
		}
		var left []store.EmailVerification
		if err := st.TestingDB(t).Find(&left).Error; err != nil {
			t.Fatal(err)
		}
		if p.EmailVerifications != 2 || len(left) != 1 || left[0].Email != "live@example.com" {
			t.Fatalf("purged %d, left %+v; want the used and the expired link gone, the live one kept", p.EmailVerifications, left)
		}
	})
}
