package api

import (
	"net/url"
	"strings"
)

// maxNextLength bounds a return path kept for after sign-in.
const maxNextLength = 2048

// SafeNext is the one check for every "where to go after this" parameter
// (?next= on the sign-in pages, the path kept through a Microsoft sign-in):
// it answers a path on this site, parsed and re-serialised, or "/".
//
// Refused: anything with a scheme or host ("https://x", "javascript:x",
// "//x"), control characters (browsers strip a tab or newline, so
// "/\t/x" becomes "//x"), backslashes (browsers read "/\x" as "//x"),
// and paths that decode to any of these ("/%2F%2Fx", "/%09/x").
func SafeNext(next string) string {
	if next == "" || len(next) > maxNextLength || !strings.HasPrefix(next, "/") || hasUnsafeByte(next) {
		return "/"
	}
	u, ok := parseLocalPath(next)
	if !ok {
		return "/"
	}
	out := u.EscapedPath()
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		out += "#" + u.EscapedFragment()
	}
	// Belt and braces: the re-serialised form is one path on this site.
	if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || strings.HasPrefix(out, "/\\") || hasUnsafeByte(out) {
		return "/"
	}
	return out
}

// parseLocalPath parses next and accepts it only as a path on this site:
// no scheme, host, user or opaque part, and a path, query and fragment
// that do not decode to anything hasUnsafeByte refuses.
func parseLocalPath(next string) (*url.URL, bool) {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return nil, false
	}
	if !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || hasUnsafeByte(u.Path) {
		return nil, false
	}
	if q, err := url.QueryUnescape(u.RawQuery); err != nil || hasUnsafeByte(q) {
		return nil, false
	}
	return u, !hasUnsafeByte(u.Fragment)
}

// hasUnsafeByte reports control characters (C0, DEL, and the C1 range as
// runes), backslashes and invalid UTF-8.
func hasUnsafeByte(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\\' || r == '\uFFFD' {
			return true
		}
	}
	return false
}
