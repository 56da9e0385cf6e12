package api_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func br(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := brotli.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// TestPortalFilesNegotiated: the build's precompressed files are served by
// Accept-Encoding (brotli first, then gzip, else as built), with the
// original's Content-Type, Vary, an entity tag per representation and the
// hashed assets' long caching.
func TestPortalFilesNegotiated(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	js := []byte(strings.Repeat("console.log('marketgate');\n", 200))
	css := []byte(strings.Repeat(".mg{color:red}\n", 200))
	portal := fstest.MapFS{
		"index.html":               {Data: []byte("<html>portal</html>")},
		"assets/app-abc123.js":     {Data: js},
		"assets/app-abc123.js.br":  {Data: br(t, js)},
		"assets/app-abc123.js.gz":  {Data: gz(t, js)},
		"assets/app-abc123.css":    {Data: css},
		"assets/app-abc123.css.gz": {Data: gz(t, css)},
	}
	e := newEnv(t, st, portal)
	b := &browser{e: e}
	cases := []struct {
		path, accept, want string
	}{
		{"/assets/app-abc123.js", "gzip, deflate, br, zstd", "br"},
		{"/assets/app-abc123.js", "gzip", "gzip"},
		{"/assets/app-abc123.js", "br;q=0, gzip;q=0.8", "gzip"},
		{"/assets/app-abc123.js", "*", "br"},
		{"/assets/app-abc123.js", "gzip;q=0, br;q=0", ""},
		{"/assets/app-abc123.js", "", ""},
		{"/assets/app-abc123.js", "identity", ""},
		{"/assets/app-abc123.css", "br, gzip", "gzip"}, // no .br built: the next best
	}
	etags := map[string]string{}
	for _, c := range cases {
		r := b.do(http.MethodGet, c.path, "", map[string]string{"Accept-Encoding": c.accept})
		if r.code != 200 || r.hdr.Get("Content-Encoding") != c.want || !strings.Contains(r.hdr.Get("Vary"), "Accept-Encoding") ||
			r.hdr.Get("Cache-Control") != "public, max-age=31536000, immutable" || r.hdr.Get("ETag") == "" {
			t.Fatalf("%s with %q: %d encoding %q vary %q cache %q etag %q", c.path, c.accept, r.code, r.hdr.Get("Content-Encoding"),
				r.hdr.Get("Vary"), r.hdr.Get("Cache-Control"), r.hdr.Get("ETag"))
		}
		wantType := "text/javascript; charset=utf-8"
		if strings.HasSuffix(c.path, ".css") {
			wantType = "text/css; charset=utf-8"
		}
		if r.hdr.Get("Content-Type") != wantType {
			t.Fatalf("%s with %q: Content-Type %q", c.path, c.accept, r.hdr.Get("Content-Type"))
		}
		var body []byte
		switch c.want {
		case "br":
			body, _ = io.ReadAll(brotli.NewReader(bytes.NewReader(r.body)))
		case "gzip":
			zr, err := gzip.NewReader(bytes.NewReader(r.body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(zr)
		default:
			body = r.body
		}
		orig := js
		if strings.HasSuffix(c.path, ".css") {
			orig = css
		}
		if !bytes.Equal(body, orig) || (c.want != "" && len(r.body) >= len(orig)) {
			t.Fatalf("%s with %q: body of %d bytes does not decode to the file", c.path, c.accept, len(r.body))
		}
		key := c.path + " " + c.want
		if prev, ok := etags[key]; ok && prev != r.hdr.Get("ETag") {
			t.Fatalf("%s: entity tag changed between requests", key)
		}
		etags[key] = r.hdr.Get("ETag")
		// The browser's revalidation of what it holds answers 304.
		if nm := b.do(http.MethodGet, c.path, "", map[string]string{"Accept-Encoding": c.accept, "If-None-Match": r.hdr.Get("ETag")}); nm.code != http.StatusNotModified {
			t.Fatalf("%s with %q: If-None-Match answered %d", c.path, c.accept, nm.code)
		}
	}
	if etags["/assets/app-abc123.js br"] == etags["/assets/app-abc123.js gzip"] || etags["/assets/app-abc123.js br"] == etags["/assets/app-abc123.js "] {
		t.Fatalf("one entity tag for two representations: %v", etags)
	}
}

// TestAnswersCompressed: JSON answers of at least 1 KB are gzipped for a
// client that accepts it, keeping the request id and security headers;
// small answers and clients that do not accept gzip get them as they are.
func TestAnswersCompressed(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	e := newEnv(t, st, nil)
	b := &browser{e: e}
	plain := b.do(http.MethodGet, "/api/openapi.json", "", map[string]string{"Accept-Encoding": ""})
	if plain.code != 200 || plain.hdr.Get("Content-Encoding") != "" || len(plain.body) < 1024 {
		t.Fatalf("without Accept-Encoding: %d %q %d bytes", plain.code, plain.hdr.Get("Content-Encoding"), len(plain.body))
	}
	r := b.do(http.MethodGet, "/api/openapi.json", "", map[string]string{"Accept-Encoding": "gzip", "X-Request-Id": "req-compress-1"})
	if r.code != 200 || r.hdr.Get("Content-Encoding") != "gzip" || !strings.Contains(r.hdr.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("large JSON: %d encoding %q vary %q", r.code, r.hdr.Get("Content-Encoding"), r.hdr.Get("Vary"))
	}
	if r.hdr.Get("X-Request-Id") != "req-compress-1" || r.hdr.Get("X-Content-Type-Options") != "nosniff" || r.hdr.Get("Content-Type") != plain.hdr.Get("Content-Type") {
		t.Fatalf("headers lost: %v", r.hdr)
	}
	zr, err := gzip.NewReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(zr); !bytes.Equal(got, plain.body) || len(r.body)*3 > len(plain.body) {
		t.Fatalf("gzip body: %d bytes for %d, decodes equal: %v", len(r.body), len(plain.body), bytes.Equal(got, plain.body))
	}
	small := b.do(http.MethodGet, "/healthz", "", map[string]string{"Accept-Encoding": "gzip"})
	if small.code != 200 || small.hdr.Get("Content-Encoding") != "" || len(small.body) >= 1024 {
		t.Fatalf("a tiny answer: %d encoding %q, %d bytes", small.code, small.hdr.Get("Content-Encoding"), len(small.body))
	}
}
