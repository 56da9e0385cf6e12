package api

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/setup"
)

// getSetup runs the go-live checks (server/setup) now: the Setup page and
// the admin's first-run checklist. Without checks configured (tests) the
// report is empty and ok.
func (s *Server) getSetup(c *gin.Context) (setup.SetupReport, error) {
	if s.Setup == nil {
		return setup.SetupReport{Checks: []setup.SetupCheck{}, OK: true, CheckedAt: s.Now().UTC()}, nil
	}
	r := s.Setup(c.Request.Context())
	if r.Checks == nil {
		r.Checks = []setup.SetupCheck{}
	}
	r.CheckedAt = r.CheckedAt.Truncate(time.Second)
	return r, nil
}
