package store

import "gorm.io/gorm"

// ListCountCap is how far a list counts what its filter selects when no
// count kept aside answers it: counting is linear in the rows counted, so
// at a million rows the exact total of a broad selection cost more than
// its page (the subscriptions list's default page: 11 ms of 11.3; one
// marketplace's metering records: 169 ms; every inbound message, 12 ms).
// A selection of more rows reports this many, TotalCapped.
const ListCountCap = 10000

// Page is a page of a list and how many rows its filter selects: exactly,
// or when TotalCapped more than Total.
type Page[T any] struct {
	Items       []T
	Total       int64
	TotalCapped bool
}

// countLimit is how far a list counts: ListCountCap, or the end of the
// page asked for when further (so that a capped total always means a next
// page).
func countLimit(offset, limit int) int64 { return max(ListCountCap, int64(offset+limit)) }

// searchCountLimit is countLimit for a selection each counted row of
// which is tested by a LIKE (a broad search, part of an e-mail):
// SearchCountCap, or the end of the page asked for when further.
func searchCountLimit(offset, limit int) int64 { return max(SearchCountCap, int64(offset+limit)) }

// countUpTo counts q's rows up to upTo: past it, n is upTo and capped is
// true. db runs the count.
func countUpTo(db, q *gorm.DB, upTo int64, n *int64) (capped bool, err error) {
	if err := db.Table("(?) AS m", q.Select("1").Limit(int(upTo)+1)).Count(n).Error; err != nil {
		return false, err
	}
	if *n > upTo {
		*n = upTo
		return true, nil
	}
	return false, nil
}
