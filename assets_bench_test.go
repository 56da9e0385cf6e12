package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestBenchAssets (scripts/bench.sh) fetches the real binary's portal
// files as a browser would, with Accept-Encoding br, gzip and none, and
// prints the bytes on the wire: what the sign-in page needs before it
// renders (index.html's script, module preloads and style sheet) and every
// JS and CSS file of the portal (an upper bound of a first session).
func TestBenchAssets(t *testing.T) {
	benchOn(t)
	s := start(t, t.TempDir(), nil, "--sandbox")
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}} // count the bytes as sent
	get := func(path, enc string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, s.url+path, nil)
		if enc != "" {
			req.Header.Set("Accept-Encoding", enc)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("%s: HTTP %d", path, res.StatusCode)
		}
		return len(b), string(b)
	}
	_, index := get("/", "")
	var first []string
	for _, m := range regexp.MustCompile(`(?:src|href)="(/assets/[^"]+\.(?:js|css))"`).FindAllStringSubmatch(index, -1) {
		first = append(first, m[1])
	}
	if len(first) == 0 {
		t.Fatalf("no assets in index.html (is the portal built?): %s", index)
	}
	var all []string
	entries, _ := os.ReadDir(filepath.Join("frontend", "build", "portal", "assets"))
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".js") || strings.HasSuffix(n, ".css") {
			all = append(all, "/assets/"+n)
		}
	}
	weigh := func(paths []string, ext, enc string) float64 {
		n := 0
		for _, p := range paths {
			if strings.HasSuffix(p, ext) {
				b, _ := get(p, enc)
				n += b
			}
		}
		return float64(n) / 1024
	}
	for _, set := range []struct {
		name  string
		paths []string
	}{{"before sign-in (index.html's script, preloads, style sheet)", first}, {fmt.Sprintf("the whole portal (%d JS and CSS files)", len(all)), all}} {
		for _, enc := range []string{"br", "gzip", ""} {
			t.Logf("portal assets on the wire, %s, Accept-Encoding %q: %.1f KB of JS, %.1f KB of CSS", set.name, enc, weigh(set.paths, ".js", enc), weigh(set.paths, ".css", enc))
		}
	}
}
