package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/store"
)

const ctxRequestID = "request_id"

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestContext gives every request an id (kept from X-Request-Id when it
// is sane), logs it, recovers panics and counts it in the metrics.
func (s *Server) requestContext(c *gin.Context) {
	start := time.Now()
	id := c.GetHeader("X-Request-Id")
	if !validRequestID.MatchString(id) {
		id = auth.RandomToken(12)
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-Id", id)
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20)

	defer func() {
		if p := recover(); p != nil {
			s.Log.Error("panic", "request_id", id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			s.fail(c, fmt.Errorf("panic: %v", p))
		}
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		status := c.Writer.Status()
		d := time.Since(start)
		s.metrics.requests.WithLabelValues(c.Request.Method, route, strconv.Itoa(status)).Inc()
		s.metrics.duration.WithLabelValues(c.Request.Method, route).Observe(d.Seconds())
		level := requestLogLevel(route, status)
		s.Log.Log(c.Request.Context(), level, "http", "request_id", id, "method", c.Request.Method,
			"route", route, "status", status, "duration_ms", d.Milliseconds(), "ip", ClientIP(c))
	}()
	c.Next()
}

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// ClientIP is the client's address: the connection's, or, when the
// connection comes from a configured trusted proxy (Deps.TrustedProxies),
// the one that proxy forwarded. Use it for rate limits, logs and the audit.
func ClientIP(c *gin.Context) string { return c.ClientIP() }

// crossOrigin refuses cross-site state-changing requests on cookie routes.
func (s *Server) crossOrigin(c *gin.Context) {
	if err := s.cop.Check(c.Request); err != nil {
		s.failCode(c, apperr.CrossOrigin, "cross-origin request refused")
		return
	}
	c.Next()
}

// Who may call a route.
type access struct {
	roles      []string
	anyPwState bool          // allowed while a password change is required
	refusal    *apperr.Error // what a caller of another role gets (nil: forbidden)
}

var (
	sellerRead  = access{roles: []string{store.RoleAdmin, store.RoleOperator, store.RoleViewer}}
	adminOnly   = access{roles: []string{store.RoleAdmin}}
	sellerWrite = access{roles: []string{store.RoleAdmin, store.RoleOperator}}
	anyUserRead = access{roles: []string{store.RoleAdmin, store.RoleOperator, store.RoleViewer, store.RoleCustomerAdmin}}
	signedIn    = access{roles: store.Roles, anyPwState: true}
	manageSeats = access{roles: []string{store.RoleAdmin, store.RoleOperator, store.RoleCustomerAdmin}}
)

const ctxUser = "user"

// allow loads the session's user and checks the role.
func (s *Server) allow(a access) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, err := s.sessionUser(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		if u == nil {
			s.failCode(c, apperr.Unauthenticated, "sign in first")
			return
		}
		if u.MustChangePassword && !a.anyPwState {
			s.fail(c, &apperr.Error{Code: apperr.Forbidden, Message: "change your password first"})
			return
		}
		if !a.anyPwState {
			if must, err := s.mustEnableTwoFactor(c, u); err != nil || must {
				if err == nil {
					err = &apperr.Error{Code: apperr.Forbidden, Message: "set up two-factor authentication first: an admin requires it"}
				}
				s.fail(c, err)
				return
			}
		}
		ok := false
		for _, r := range a.roles {
			if u.Role == r {
				ok = true
				break
			}
		}
		if !ok && a.refusal != nil {
			s.fail(c, a.refusal)
			return
		}
		if !ok {
			s.failCode(c, apperr.Forbidden, "your role (%s) may not do this", u.Role)
			return
		}
		c.Set(ctxUser, u)
		c.Next()
	}
}

// customerScope is the customer a customer admin is confined to (0 for
// seller staff, who see everything).
func customerScope(u *store.User) uint {
	if u.Role == store.RoleCustomerAdmin && u.CustomerID != nil {
		return *u.CustomerID
	}
	return 0
}

func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty body")
		}
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	// null decodes into anything as "nothing": a PATCH of null would
	// change nothing yet answer 200 and write an audit entry.
	if string(bytes.TrimSpace(raw)) == "null" {
		return errors.New("the body is null; send a JSON object")
	}
	inner := json.NewDecoder(bytes.NewReader(raw))
	inner.DisallowUnknownFields()
	return inner.Decode(v)
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry, st *store.Store) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "marketgate_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "marketgate_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
	}
	cs := append([]prometheus.Collector{m.requests, m.duration}, st.Collectors()...)
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// inboxHeaders keeps the request headers worth reading later with an
// inbound message (as JSON). Credentials are never stored: a bearer token
// (Microsoft's webhook) is noted as verified, cookies are left out.
func inboxHeaders(r *http.Request) string {
	keep := map[string]string{}
	for _, h := range []string{"Content-Type", "Content-Length", "User-Agent", "Referer", "Origin", "X-Forwarded-For",
		"X-Ms-Requestid", "X-Ms-Correlationid", "X-Request-Id"} {
		if v := r.Header.Get(h); v != "" {
			keep[h] = v
		}
	}
	if r.Header.Get("Authorization") != "" {
		keep["Authorization"] = "(a bearer token: verified, not stored)"
	}
	b, _ := json.Marshal(keep)
	return string(b)
}

// requestLogLevel: one line per request at info, except health checks,
// the sandbox's simulated marketplaces (Marketgate's own SQS long polls,
// metering calls and pages: noise at info) and the seller's app's answered
// calls to /api/v1 (usage, seat and access checks: thousands a second,
// counted in the metrics; their refusals stay at info) at debug; server
// errors at error whatever the route.
func requestLogLevel(route string, status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case route == "/healthz" || route == "/metrics" || strings.HasPrefix(route, "/sandbox/"):
		return slog.LevelDebug
	case strings.HasPrefix(route, "/api/v1/") && status < 400:
		return slog.LevelDebug
	}
	return slog.LevelInfo
}
