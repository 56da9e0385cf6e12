package main

import (
	"embed"
	"io/fs"
)

// The portal is built by scripts/build.sh (npm ci + vite build) into
// frontend/build/portal, which git ignores. frontend/build/.gitkeep keeps
// this pattern valid on a fresh clone, so go build and go test work before
// the portal is built; the server then shows a "portal not built" page.
//
//go:embed all:frontend/build
var portalFiles embed.FS

func portal() fs.FS {
	sub, err := fs.Sub(portalFiles, "frontend/build/portal")
	if err != nil {
		return nil
	}
	return sub
}
