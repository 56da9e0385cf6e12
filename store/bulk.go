package store

import (
	"context"
	"strings"

	"gorm.io/gorm"
)

// BulkCreateSubscriptions inserts many new subscriptions at once (the
// benchmarks' million-row seeds, test data): multi-row INSERTs of the
// columns a new subscription sets, 500 rows a statement, in one
// transaction, with their search digests (SearchTextFor) computed by the
// caller. The IDs are not read back. The SQLite text index follows with
// IndexPendingSearch (the rows are queued for it).
func (s *Store) BulkCreateSubscriptions(ctx context.Context, subs []Subscription) error {
	const cols = 18
	const per = 500
	return s.tx(ctx, func(tx *gorm.DB) error {
		var sb strings.Builder
		args := make([]any, 0, per*cols)
		for start := 0; start < len(subs); start += per {
			part := subs[start:min(start+per, len(subs))]
			sb.Reset()
			args = args[:0]
			sb.WriteString(`INSERT INTO subscriptions (marketplace, state, state_changed_at, name, customer_id, offer_id, plan_id, quantity,
				aws_customer_account_id, aws_license_arn, aws_customer_identifier, aws_product_code, azure_subscription_id, azure_tenant_id,
				search_text, version, created_at, updated_at) VALUES `)
			for i := range part {
				x := &part[i]
				if i > 0 {
					sb.WriteByte(',')
				}
				sb.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
				version := max(x.Version, 1)
				args = append(args, x.Marketplace, x.State, x.StateChangedAt.UTC(), x.Name, x.CustomerID, x.OfferID, x.PlanID, x.Quantity,
					x.AWSCustomerAccountID, x.AWSLicenseArn, x.AWSCustomerIdentifier, x.AWSProductCode, x.AzureSubscriptionID, x.AzureTenantID,
					x.SearchText, version, x.CreatedAt.UTC(), x.UpdatedAt.UTC())
			}
			if err := tx.Exec(sb.String(), args...).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// DatabaseSize is the database's size in bytes (SQLite: its pages;
// Postgres: pg_database_size), for the benchmarks' cost table.
func (s *Store) DatabaseSize(ctx context.Context) (int64, error) {
	var n int64
	q := "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
	if s.Dialect == Postgres {
		q = "SELECT pg_database_size(current_database())"
	}
	return n, s.r.WithContext(ctx).Raw(q).Scan(&n).Error
}
