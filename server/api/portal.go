package api

import (
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
)

const notBuiltPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Marketgate</title>
<link rel="stylesheet" href="/page-assets/page.css">
</head><body class="plain"><h1>Marketgate</h1><p>The portal is not built into this binary.</p>
<p>Run <code>scripts/build.sh</code> (or <code>scripts/run.sh</code>) to build it, then start Marketgate again.
The API under <code>/api</code>, <code>/healthz</code> and <code>/metrics</code> work without it.</p></body></html>`

// portal serves the built single-page app: files as they are or
// precompressed (compress.go; hashed assets cached for a year), and index.html, never cached, for every other
// path so the app's own router can take it.
func (s *Server) portal(c *gin.Context) {
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		s.failCode(c, apperr.NotFound, "no route %s %s", c.Request.Method, c.Request.URL.Path)
		return
	}
	if s.Portal == nil {
		s.notBuilt(c)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+c.Request.URL.Path), "/")
	if name != "" && name != "index.html" {
		if data, err := fs.ReadFile(s.Portal, name); err == nil {
			if strings.HasPrefix(name, "assets/") {
				c.Header("Cache-Control", "public, max-age=31536000, immutable")
			} else {
				c.Header("Cache-Control", "no-cache")
			}
			s.serveFile(c, name, data)
			return
		}
		if strings.HasPrefix(name, "assets/") || path.Ext(name) != "" {
			c.Header("Cache-Control", "no-store")
			c.String(http.StatusNotFound, "not found")
			return
		}
	}
	index, err := fs.ReadFile(s.Portal, "index.html")
	if errors.Is(err, fs.ErrNotExist) {
		s.notBuilt(c)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-cache, no-store, must-revalidate")
	c.Data(http.StatusOK, "text/html; charset=utf-8", index)
}

func (s *Server) notBuilt(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(notBuiltPage))
}
