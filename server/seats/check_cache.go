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
// subscriptions are kept in memory per organisation (and offer), and
// used again while both
//   - this process has committed no write to the tables they are read from
//     since they were read (store.GrantGeneration): a change made here
//     (a seat assigned or released, a subscription suspended, ended or
//     reduced, a plan's policy) is seen by the very next check;
//   - they were read less than CheckCacheTTL ago: a change made by another
//     replica (sharing Postgres, or the same SQLite file) is seen within
//     that bound. Until then a check on this replica may still grant a
//     seat of a subscription another replica has just suspended or ended,
//     or count the seats assigned there a moment ago.

// CheckCacheTTL bounds how long a change made by another replica may go
// unseen by the seat check here (see above).
const CheckCacheTTL = time.Second

// maxCachedOrgs bounds the cache; past it, it starts again empty.
const maxCachedOrgs = 100000

type orgKey struct {
	org   store.SeatOrganisation
	offer string
}

type orgEntry struct {
	gen    uint64
	at     time.Time
	cands  []candidate  // sorted (sortCandidates); read-only once cached
	counts map[uint]int // seats assigned per subscription, when read
	byID   map[uint]*candidate
	ids    []uint
}

type checkCache struct {
	mu   sync.RWMutex
	orgs map[orgKey]*orgEntry
}

// get is the organisation's entry while it may be used.
func (c *checkCache) get(k orgKey, gen uint64, now time.Time) *orgEntry {
	c.mu.RLock()
	e := c.orgs[k]
	c.mu.RUnlock()
	if e == nil || e.gen != gen || now.Sub(e.at) >= CheckCacheTTL || now.Before(e.at) {
		return nil
	}
	return e
}

func (c *checkCache) put(k orgKey, e *orgEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.orgs == nil || len(c.orgs) >= maxCachedOrgs {
		c.orgs = map[orgKey]*orgEntry{}
	}
	c.orgs[k] = e
}

func newOrgEntry(gen uint64, at time.Time, cands []candidate) *orgEntry {
	e := &orgEntry{gen: gen, at: at, cands: cands, counts: map[uint]int{}, byID: map[uint]*candidate{}, ids: make([]uint, len(cands))}
	for i := range cands {
		e.ids[i], e.byID[cands[i].ID] = cands[i].ID, &cands[i]
	}
	return e
}
