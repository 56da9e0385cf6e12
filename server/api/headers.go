package api

import (
	"embed"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

// contentSecurityPolicy is strict: scripts, styles, fonts and images only
// from this site (no inline script or style element, no eval), no plugins,
// no framing, forms post only here. React and Blueprint set styles through
// the DOM (CSSOM), which style-src does not restrict.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders go on every answer. HSTS only when the base URL is
// https (a browser would otherwise refuse a plain-http instance for a year).
func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	// The sandbox's simulated Microsoft sign-in page stands for Microsoft's
	// own site, which has its own policy; everything of ours gets this one.
	if !strings.HasPrefix(c.Request.URL.Path, "/sandbox/azure/entra/") {
		h.Set("Content-Security-Policy", contentSecurityPolicy)
	}
	if s.hsts {
		h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	c.Next()
}

//go:embed static
var pageAssets embed.FS

// pageAsset serves the server-rendered pages' stylesheet and script.
func pageAsset(c *gin.Context) {
	name := path.Base(c.Param("file"))
	data, err := pageAssets.ReadFile("static/" + name)
	if err != nil {
		c.Header("Cache-Control", "no-store")
		c.String(http.StatusNotFound, "not found")
		return
	}
	ct := "text/css; charset=utf-8"
	if strings.HasSuffix(name, ".js") {
		ct = "text/javascript; charset=utf-8"
	}
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(http.StatusOK, ct, data)
}
