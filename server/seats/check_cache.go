package seats

import (
	"sync"
	"time"

	"github.com/marketgate/marketgate/store"
)

// The seat check's cache. A check reads two things: the organisation's
// per-user subscriptions (state, quantity, plan and its policy, with the
// number of seats assigned) and the user's seat. The seat is read on every
// check: a released seat is never granted again, on any replica. The
// subscriptions are kept in memory per organisation (and offer), in a
// store.GrantCache: used again while no write to the tables they are read
// from was committed, here (seen by the very next check) or by another
// replica sharing the database (seen within store.GrantRecheck; until then
// a check here may still grant a seat of a subscription another replica
// has just suspended or ended, or count the seats assigned there a moment
// ago), and for at most CheckCacheTTL.

// CheckCacheTTL bounds how long a change that moved no count of grant
// changes may go unseen by the seat check (SQL written by hand, or a
// replica stopped between its commit and its count; see store.GrantRecheck).
const CheckCacheTTL = time.Minute

// maxCachedOrgs bounds the cache; past it, it starts again empty.
const maxCachedOrgs = 100000

type orgKey struct {
	org   store.SeatOrganisation
	offer string
}

// orgEntry is an organisation's per-user subscriptions as read, kept in a
// store.GrantCache.
type orgEntry struct {
	cands []candidate // sorted (sortCandidates); read-only once cached
	byID  map[uint]*candidate
	ids   []uint

	mu     sync.Mutex
	counts map[uint]int // seats assigned per subscription, when read
}

func newCheckCache() *store.GrantCache[orgKey, *orgEntry] {
	return &store.GrantCache[orgKey, *orgEntry]{TTL: CheckCacheTTL, Max: maxCachedOrgs}
}

func newOrgEntry(cands []candidate) *orgEntry {
	e := &orgEntry{cands: cands, counts: map[uint]int{}, byID: map[uint]*candidate{}, ids: make([]uint, len(cands))}
	for i := range cands {
		e.ids[i], e.byID[cands[i].ID] = cands[i].ID, &cands[i]
	}
	return e
}

func (e *orgEntry) count(id uint) (int, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n, ok := e.counts[id]
	return n, ok
}

func (e *orgEntry) setCount(id uint, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.counts[id] = n
}
