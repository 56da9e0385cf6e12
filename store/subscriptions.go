package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"
)

// SubscriptionRow is a subscription with the names a list shows.
type SubscriptionRow struct {
	Subscription
	CustomerName       string
	OfferName          string
	OfferMarketplaceID string
	PlanKey            string
	PlanName           string
}

// SortField is one ORDER BY term.
type SortField struct {
	Field string
	Desc  bool
}

// SubscriptionSortFields are the columns a list may be sorted by.
var SubscriptionSortFields = map[string]string{
	"created_at":  "s.created_at",
	"updated_at":  "s.updated_at",
	"state":       "s.state",
	"marketplace": "s.marketplace",
	"quantity":    "s.quantity",
	"id":          "s.id",
	// when the state last changed (for example: ended, newest first)
	"state_changed_at": "s.state_changed_at",
}

// SubscriptionFilter selects and orders subscriptions. Limit must be set;
// the caller validates ranges.
type SubscriptionFilter struct {
	Marketplaces []string
	States       []string
	OfferID      uint
	PlanID       uint
	CustomerID   uint
	Q            string
	SeatBased    bool // only per-user plans
	// Time ranges (zero: open): created, and state last changed.
	CreatedFrom, CreatedTo time.Time
	ChangedFrom, ChangedTo time.Time
	UpdatedFrom            time.Time // any change at or after (the read API's updated_since)
	Sort                   []SortField
	Limit                  int
	Offset                 int
	Cursor                 string // from a previous page's NextCursor; replaces Offset
	NoTotal                bool   // skip counting the matches (a caller that shows no total)

	matched []uint // a search's matches, found while counting them (countSearch)
}

// SearchCountCap is how far a broad text search counts its matches (a term
// in one subscription in 50 or more, in a large table): it has no index to
// count in, so the count walks the rows testing each, and at a million
// subscriptions walking to 10,000 matches cost 14 ms of the search's 15.5
// (to 1,000: 1 ms). Such a term is for finding, not for paging through.
const SearchCountCap = 1000

// SubscriptionPage is one page of a list.
type SubscriptionPage struct {
	Items []SubscriptionRow
	// Total is how many subscriptions match, exactly unless TotalCapped:
	// then more match, and Total is ListCountCap (SearchCountCap
	// for a broad search) or the end of the offset's page when further (so
	// a next page exists).
	Total       int64
	TotalCapped bool
	NextCursor  string
}

// ErrBadCursor is returned for a cursor that does not fit the sort.
var ErrBadCursor = fmt.Errorf("invalid cursor")

// NormalizeSearch folds a search term the way SearchText is folded.
func NormalizeSearch(q string) string { return strings.ToLower(strings.TrimSpace(q)) }

// SearchTextFor builds a subscription's search digest from its fields and
// its customer's.
func SearchTextFor(s *Subscription, c *Customer) string {
	parts := []string{s.Name, s.AWSCustomerAccountID, s.AWSLicenseArn, s.AWSCustomerIdentifier,
		s.AWSProductCode, s.AzureSubscriptionID, s.AzureTenantID}
	if c != nil {
		parts = append(parts, c.Name, c.Email)
	}
	var b strings.Builder
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strings.ToLower(p))
		}
	}
	return b.String()
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (f SubscriptionFilter) where(q *gorm.DB, s *Store, walk bool) *gorm.DB {
	if len(f.Marketplaces) > 0 {
		q = q.Where("s.marketplace IN ?", f.Marketplaces)
	}
	if len(f.States) > 0 {
		q = q.Where("s.state IN ?", f.States)
	}
	if f.OfferID != 0 {
		q = q.Where("s.offer_id = ?", f.OfferID)
	}
	if f.PlanID != 0 {
		q = q.Where("s.plan_id = ?", f.PlanID)
	}
	if f.CustomerID != 0 {
		q = q.Where("s.customer_id = ?", f.CustomerID)
	}
	if f.SeatBased {
		q = q.Where("s.plan_id IN (SELECT id FROM plans WHERE seat_based)")
	}
	for _, r := range []struct {
		col  string
		from time.Time
		to   time.Time
	}{{"s.created_at", f.CreatedFrom, f.CreatedTo}, {"s.state_changed_at", f.ChangedFrom, f.ChangedTo}, {"s.updated_at", f.UpdatedFrom, time.Time{}}} {
		if !r.from.IsZero() {
			q = q.Where(r.col+" >= ?", r.from.UTC())
		}
		if !r.to.IsZero() {
			q = q.Where(r.col+" < ?", r.to.UTC())
		}
	}
	if t := NormalizeSearch(f.Q); f.matched != nil {
		q = q.Where("s.id IN ?", f.matched)
	} else if t != "" {
		if col := identityColumn(t); col != "" {
			// A pasted marketplace id: an indexed lookup instead of a scan.
			q = q.Where("s."+col+" = ?", identityValue(col, t))
		} else {
			if walk {
				// Reading the sort's index for a broad term (one row in 50 or
				// more matches): each row read is tested with the LIKE the
				// text index stands for, a few microseconds for the page's
				// rows, instead of evaluating the index's match in full for
				// a set to look in.
				q = q.Where(`s.search_text LIKE ? ESCAPE '\'`, "%"+escapeLike(t)+"%")
			} else {
				cond, args := s.searchCondition(q.Statement.Context, t)
				q = q.Where(cond, args...)
			}
		}
	}
	return q
}

var (
	awsAccountID = regexp.MustCompile(`^[0-9]{12}$`)
	uuidPattern  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// identityColumn recognises a search term that is a whole marketplace
// identity (an AWS account id, a license ARN, a Microsoft subscription id).
func identityColumn(t string) string {
	switch {
	case awsAccountID.MatchString(t):
		return "aws_customer_account_id"
	case strings.HasPrefix(t, "arn:aws:license-manager:"):
		return "aws_license_arn"
	case uuidPattern.MatchString(t):
		return "azure_subscription_id"
	}
	return ""
}

// identityValue undoes the search folding where the stored id keeps case.
func identityValue(col, t string) string { return t }

// listPlan says how a list reads its rows on SQLite: walk the sort's index
// and keep the rows that match (a broad search: the first page is near),
// or find the matches first and sort them (a rare term, where the walk
// would visit most of the table).
type listPlan struct{ walk bool }

// listQuery builds the ordered, filtered query of a list (without limit)
// and the full sort it orders by.
func (s *Store) listQuery(ctx context.Context, f SubscriptionFilter, plan listPlan) (*gorm.DB, []SortField, error) {
	sort := append([]SortField{}, f.Sort...)
	if len(sort) == 0 {
		sort = []SortField{{Field: "created_at", Desc: true}}
	}
	if sort[len(sort)-1].Field != "id" {
		sort = append(sort, SortField{Field: "id", Desc: sort[len(sort)-1].Desc})
	}
	for _, sf := range sort {
		if _, ok := SubscriptionSortFields[sf.Field]; !ok {
			return nil, nil, fmt.Errorf("unknown sort field %q", sf.Field)
		}
	}
	// With a substring search, walking an ORDER BY index to find a rare
	// term visits every row out of order; "+col" keeps SQLite from using the
	// index for ordering, so it finds the matches first and sorts them.
	term := NormalizeSearch(f.Q)
	noIndexOrder := s.Dialect == SQLite && term != "" && identityColumn(term) == "" && !plan.walk
	order := func(q *gorm.DB) *gorm.DB {
		for _, sf := range sort {
			dir := " ASC"
			if sf.Desc {
				dir = " DESC"
			}
			col := SubscriptionSortFields[sf.Field]
			if noIndexOrder {
				col = "+" + col
			}
			q = q.Order(col + dir)
		}
		return q
	}
	q := f.where(s.r.WithContext(ctx).Table("subscriptions AS s"), s, plan.walk).
		Select(`s.*, COALESCE(c.name, '') AS customer_name, COALESCE(o.name, '') AS offer_name,
			COALESCE(o.marketplace_id, '') AS offer_marketplace_id, COALESCE(p.plan_id, '') AS plan_key,
			COALESCE(p.name, '') AS plan_name`).
		Joins("LEFT JOIN customers c ON c.id = s.customer_id").
		Joins("LEFT JOIN offers o ON o.id = s.offer_id").
		Joins("LEFT JOIN plans p ON p.id = s.plan_id")
	if f.Cursor != "" {
		cond, args, err := keysetCondition(sort, f.Cursor)
		if err != nil {
			return nil, nil, err
		}
		q = q.Where(cond, args...)
	} else if f.Offset > 0 {
		// A deferred join: the rows skipped are counted off the index
		// alone (no row, no join read for them); only the page's rows are
		// read in full.
		ids := order(f.where(s.r.WithContext(ctx).Table("subscriptions AS s"), s, plan.walk).Select("s.id")).
			Offset(f.Offset).Limit(max(f.Limit, 1))
		q = q.Where("s.id IN (?)", ids)
	}
	return order(q), sort, nil
}

// broadSearch reports whether a search through the text index matches so
// many rows that walking the sort's index finds a page sooner than
// sorting every match (more than one row in 50, or more than the count's
// cap: for a page of 50 a walk then tests about 50 rows in every 10,000
// of the table's, 5,000 at a million).
func (s *Store) broadSearch(ctx context.Context, f SubscriptionFilter, total int64, capped bool) bool {
	if !s.indexedSearch(NormalizeSearch(f.Q)) || total < 1000 {
		return false
	}
	if capped {
		return true
	}
	var rows struct{ N int64 }
	if err := s.r.WithContext(ctx).Raw("SELECT COALESCE(MAX(id), 0) AS n FROM subscriptions").Scan(&rows).Error; err != nil {
		return false
	}
	return total*50 >= rows.N
}

// countSubscriptions counts the rows the filter matches, up to
// ListCountCap or the end of the offset's page when further
// (capped: more match). A search and nothing else is
// counted in the text index alone (its documents are the subscriptions not
// queued for it, so the two counts add up), exactly: the index reads every
// match's entry whatever the LIMIT.
func (s *Store) countSubscriptions(ctx context.Context, f SubscriptionFilter, n *int64) (capped bool, matched []uint, err error) {
	term := NormalizeSearch(f.Q)
	only := f
	only.Q, only.Sort, only.Limit, only.Offset, only.Cursor = "", nil, 0, 0, ""
	if s.indexedSearch(term) && reflect.ValueOf(only).IsZero() {
		return s.countSearch(ctx, term, int64(f.Offset+f.Limit), n)
	}
	limit := countLimit(f.Offset, f.Limit)
	if s.Dialect == Postgres && term != "" && reflect.ValueOf(only).IsZero() && s.broadCapOnPostgres(ctx, term, int64(f.Offset+f.Limit)) {
		limit = searchCountLimit(f.Offset, f.Limit) // as countSearch on SQLite
	}
	capped, err = countUpTo(s.r.WithContext(ctx), f.where(s.r.WithContext(ctx).Table("subscriptions AS s"), s, false), limit, n)
	return capped, nil, err
}

// ListSubscriptions returns one page of subscriptions and the total that
// match the filter (counted up to ListCountCap; none with NoTotal).
func (s *Store) ListSubscriptions(ctx context.Context, f SubscriptionFilter) (SubscriptionPage, error) {
	var page SubscriptionPage
	walk := false
	if !f.NoTotal {
		capped, matched, err := s.countSubscriptions(ctx, f, &page.Total)
		if err != nil {
			return page, err
		}
		page.TotalCapped, f.matched = capped, matched
		walk = s.broadSearch(ctx, f, page.Total, capped)
	}
	q, sort, err := s.listQuery(ctx, f, listPlan{walk: walk})
	if err != nil {
		return page, err
	}
	if err := q.Limit(f.Limit).Scan(&page.Items).Error; err != nil {
		return page, err
	}
	if len(page.Items) == f.Limit {
		page.NextCursor = encodeCursor(sort, &page.Items[len(page.Items)-1].Subscription)
	}
	return page, nil
}

// EachSubscription calls fn for every subscription the filter matches, in
// its order, reading them in one pass (exports); at most max rows.
func (s *Store) EachSubscription(ctx context.Context, f SubscriptionFilter, max int, fn func(*SubscriptionRow) error) error {
	f.Cursor, f.Offset = "", 0
	q, _, err := s.listQuery(ctx, f, listPlan{})
	if err != nil {
		return err
	}
	rows, err := q.Limit(max).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r SubscriptionRow
		if err := s.r.ScanRows(rows, &r); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

func sortValue(field string, s *Subscription) any {
	switch field {
	case "created_at":
		return s.CreatedAt.UTC().Format(time.RFC3339Nano)
	case "updated_at":
		return s.UpdatedAt.UTC().Format(time.RFC3339Nano)
	case "state_changed_at":
		return s.StateChangedAt.UTC().Format(time.RFC3339Nano)
	case "state":
		return s.State
	case "marketplace":
		return s.Marketplace
	case "quantity":
		return s.Quantity
	case "id":
		return s.ID
	}
	return nil
}

type cursor struct {
	Sort   string `json:"s"`
	Values []any  `json:"v"`
}

func sortKey(sort []SortField) string {
	var b strings.Builder
	for _, sf := range sort {
		if sf.Desc {
			b.WriteByte('-')
		}
		b.WriteString(sf.Field)
		b.WriteByte(',')
	}
	return b.String()
}

func encodeCursor(sort []SortField, last *Subscription) string {
	c := cursor{Sort: sortKey(sort)}
	for _, sf := range sort {
		c.Values = append(c.Values, sortValue(sf.Field, last))
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// keysetCondition turns a cursor into "(a,b,c) after (x,y,z)" in the sort's
// directions: a > x OR (a = x AND (b > y OR (b = y AND c > z))).
func keysetCondition(sort []SortField, token string) (string, []any, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", nil, ErrBadCursor
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil || c.Sort != sortKey(sort) || len(c.Values) != len(sort) {
		return "", nil, ErrBadCursor
	}
	vals := make([]any, len(sort))
	for i, sf := range sort {
		switch sf.Field {
		case "created_at", "updated_at", "state_changed_at":
			str, ok := c.Values[i].(string)
			t, err := time.Parse(time.RFC3339Nano, str)
			if !ok || err != nil {
				return "", nil, ErrBadCursor
			}
			vals[i] = t.UTC()
		case "quantity", "id":
			n, ok := c.Values[i].(float64)
			if !ok {
				return "", nil, ErrBadCursor
			}
			vals[i] = int64(n)
		default:
			str, ok := c.Values[i].(string)
			if !ok {
				return "", nil, ErrBadCursor
			}
			vals[i] = str
		}
	}
	var build func(i int) (string, []any)
	build = func(i int) (string, []any) {
		col := SubscriptionSortFields[sort[i].Field]
		op := ">"
		if sort[i].Desc {
			op = "<"
		}
		if i == len(sort)-1 {
			return col + " " + op + " ?", []any{vals[i]}
		}
		rest, args := build(i + 1)
		return "(" + col + " " + op + " ? OR (" + col + " = ? AND (" + rest + ")))", append([]any{vals[i], vals[i]}, args...)
	}
	cond, args := build(0)
	// The same bound on the first column alone, which an index range can
	// start from (the OR form above is not one the planners use).
	col, op := SubscriptionSortFields[sort[0].Field], " >= ?"
	if sort[0].Desc {
		op = " <= ?"
	}
	return col + op + " AND " + cond, append([]any{vals[0]}, args...), nil
}

// GetSubscription returns one subscription with its customer, offer and plan.
func (s *Store) GetSubscription(ctx context.Context, id uint) (*Subscription, error) {
	var sub Subscription
	err := s.r.WithContext(ctx).Preload("Customer").Preload("Offer").Preload("Plan").First(&sub, id).Error
	if err != nil {
		return nil, notFound(err)
	}
	return &sub, nil
}

// Timeline returns a subscription's history, oldest first.
func (s *Store) Timeline(ctx context.Context, subscriptionID uint) ([]TimelineEvent, error) {
	var evs []TimelineEvent
	err := s.r.WithContext(ctx).Where("subscription_id = ?", subscriptionID).Order("at ASC, id ASC").Find(&evs).Error
	return evs, err
}

// StateCount is one cell of the dashboard's table.
type StateCount struct {
	Marketplace string
	State       string
	Count       int64
}

// CountByState counts subscriptions by marketplace and state.
func (s *Store) CountByState(ctx context.Context, customerID uint) ([]StateCount, error) {
	var out []StateCount
	q := s.r.WithContext(ctx).Table("subscriptions").Select("marketplace, state, COUNT(*) AS count")
	if customerID != 0 {
		q = q.Where("customer_id = ?", customerID)
	}
	err := q.Group("marketplace, state").Order("marketplace, state").Scan(&out).Error
	return out, err
}
