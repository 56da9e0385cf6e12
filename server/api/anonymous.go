package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// rateLimit is an allowance per client address for a public endpoint.
type rateLimit struct {
	n   int
	per time.Duration
}

// Allowances of the public pages that store something. A buyer uses each a
// handful of times; a script filling the database is stopped early.
var (
	registerLimit    = rateLimit{20, 10 * time.Minute} // POST /marketplace/aws/register
	landingLimit     = rateLimit{30, 10 * time.Minute} // GET /marketplace/azure/landing
	signInStartLimit = rateLimit{30, 10 * time.Minute} // GET /auth/microsoft
	ssoLimit         = rateLimit{30, 10 * time.Minute} // GET /auth/sso and GET /auth/sso/callback, each
)

// allowAnonymous takes a request of kind from the client's allowance and
// answers 429 (a page: these are browser routes) once it is used.
func (s *Server) allowAnonymous(c *gin.Context, kind string, l rateLimit) bool {
	ok, wait := s.allowances.Allow(kind, ClientIP(c), l.n, l.per)
	if !ok {
		secs := int(wait.Seconds()) + 1
		c.Header("Retry-After", strconv.Itoa(secs))
		s.showProblem(c, http.StatusTooManyRequests, "too_many_requests", "", "", "Seconds", secs)
		c.Abort()
		return false
	}
	return true
}

// truncate bounds a stored string to n bytes (on a UTF-8 boundary).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
