package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
)

// Compression of what the server answers (issue 18: the portal's assets
// on the wire).
//
// The portal's files are compressed once, when the portal is built (the
// Vite build writes name.br and name.gz beside every file worth it, see
// frontend/vite.config.ts), and served by content negotiation: brotli when
// the browser accepts it, else gzip, else the file as built. Everything
// else the server writes (JSON answers, pages) goes through gzhttp, the
// maintained gzip middleware of klauspost/compress: only answers of at
// least compressMinSize bytes, only compressible types, never event
// streams, never an answer that already has a Content-Encoding (the
// precompressed files, /metrics' own gzip). Headers set before the body
// (request id, security headers) pass through untouched.

// compressMinSize: smaller answers are sent as they are (compressing them
// saves less than it costs).
const compressMinSize = 1024

// compressedEngine is the router behind the gzip middleware; it still
// lists its routes (the contract and isolation tests read them).
type compressedEngine struct {
	http.Handler
	engine *gin.Engine
}

// Routes are the router's routes.
func (c compressedEngine) Routes() gin.RoutesInfo { return c.engine.Routes() }

// compressAnswers wraps the server's router with gzip for dynamic answers.
func compressAnswers(h *gin.Engine) (http.Handler, error) {
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(compressMinSize),
		// Level 1: a usage batch's answer of 1,000 results (104 KB) in
		// 140 µs to 12.7 % of its size, against 272 µs to 12.4 % at the
		// default level 5 (klauspost/compress, this project's machine).
		gzhttp.CompressionLevel(gzip.BestSpeed),
		gzhttp.ExceptContentTypes([]string{"text/event-stream"}),
		gzhttp.EnableZstd(false),              // gzip is what every client decodes; brotli comes precompressed
		gzhttp.AllowCompressedRequests(false), // requests' bodies are read as sent
		gzhttp.SuffixETag("-gzip"),            // an entity tag names one representation
	)
	if err != nil {
		return nil, err
	}
	return compressedEngine{Handler: wrap(h), engine: h}, nil
}

// precompressed are the encodings the build writes, best first: the
// Content-Encoding token and the file name's suffix.
var precompressed = []struct{ coding, suffix string }{{"br", ".br"}, {"gzip", ".gz"}}

// acceptsEncoding reports whether an Accept-Encoding header accepts coding
// (RFC 9110 §12.5.3: listed, or "*", with a q-value above 0; an explicit
// q=0 refuses it).
func acceptsEncoding(header, coding string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		switch name {
		case coding:
			return q > 0
		case "*":
			star = q > 0
		}
	}
	return star
}

// assetETags caches each portal file's entity tag (by its name and coding).
var assetETags sync.Map

func assetETag(name, coding string, data []byte) string {
	key := name + "\x00" + coding
	if v, ok := assetETags.Load(key); ok {
		return v.(string)
	}
	sum := sha256.Sum256(data)
	tag := `"` + hex.EncodeToString(sum[:12]) + `"`
	assetETags.Store(key, tag)
	return tag
}

// serveFile answers a portal file: its precompressed form when the client
// accepts one, the file as built otherwise; always Vary: Accept-Encoding,
// an entity tag per representation (If-None-Match answers 304) and the
// original's Content-Type.
func (s *Server) serveFile(c *gin.Context, name string, data []byte) {
	h := c.Writer.Header()
	h.Add("Vary", "Accept-Encoding")
	body, coding := data, ""
	accept := c.GetHeader("Accept-Encoding")
	for _, p := range precompressed {
		if !acceptsEncoding(accept, p.coding) {
			continue
		}
		if z, err := fs.ReadFile(s.Portal, name+p.suffix); err == nil {
			body, coding = z, p.coding
			break
		}
	}
	if coding != "" {
		h.Set("Content-Encoding", coding)
	}
	h.Set("ETag", assetETag(name, coding, body))
	// ServeContent takes the type from the original name, so a .js file
	// stays text/javascript whatever its coding.
	http.ServeContent(c.Writer, c.Request, name, time.Time{}, bytes.NewReader(body))
}
