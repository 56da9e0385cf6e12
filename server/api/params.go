package api

import (
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/lifecycle"
)

// Helpers shared by the portal API's handlers: path and query parameters,
// the list answer, CSV cells.

// list is a list answer.
type list[T any] struct {
	Items []T `json:"items"`
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

var marketplaces = []string{string(lifecycle.AWS), string(lifecycle.Azure)}

// maxOffset bounds offset paging; deeper pages use the cursor.
const maxOffset = 100000

// params reads query parameters, keeping the first error.
type params struct {
	c   *gin.Context
	err error
}

func (p *params) bad(format string, args ...any) {
	if p.err == nil {
		p.err = apperr.New(apperr.Invalid, format, args...)
	}
}

func (p *params) text(name string, max int) string {
	v := strings.TrimSpace(p.c.Query(name))
	if len(v) > max {
		p.bad("%s is longer than %d characters", name, max)
		return ""
	}
	return v
}

func (p *params) intRange(name string, def, min, max int) int {
	raw, ok := p.c.GetQuery(name)
	if !ok || raw == "" {
		return def
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		p.bad("%s must be a whole number", name)
		return def
	}
	if n < min || n > max {
		p.bad("%s must be between %d and %d", name, min, max)
		return def
	}
	return n
}

// time reads an RFC 3339 time (zero when absent).
func (p *params) time(name string) time.Time {
	raw := p.c.Query(name)
	if raw == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		p.bad("%s must be an RFC 3339 time, e.g. 2026-06-02T09:00:00Z", name)
	}
	return t
}

func (p *params) id(name string) uint {
	raw := p.c.Query(name)
	if raw == "" {
		return 0
	}
	n, err := strconv.ParseUint(raw, 10, 32)
	if err != nil || n == 0 {
		p.bad("%s must be a positive whole number", name)
		return 0
	}
	return uint(n)
}

func (p *params) oneOf(name string, allowed []string) string {
	v := p.c.Query(name)
	if v == "" {
		return ""
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.bad("%s must be one of %s", name, strings.Join(allowed, ", "))
	return ""
}

// list reads a comma-separated list, each item one of allowed.
func (p *params) list(name string, allowed []string) []string {
	var out []string
	for _, raw := range p.c.QueryArray(name) {
		for _, v := range strings.Split(raw, ",") {
			if v = strings.TrimSpace(v); v == "" {
				continue
			}
			ok := false
			for _, a := range allowed {
				if v == a {
					ok = true
				}
			}
			if !ok {
				p.bad("%s: unknown value %q (allowed: %s)", name, v, strings.Join(allowed, ", "))
				return nil
			}
			out = append(out, v)
		}
	}
	return out
}

// oneOf says whether v is in set.
func oneOf(v string, set []string) bool {
	for _, x := range set {
		if v == x {
			return true
		}
	}
	return false
}
