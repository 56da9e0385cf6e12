package api

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestContractBindsThePortal proves the one wire contract end to end: the
// portal's TypeScript types are generated from the document made of the
// Go answer types, so renaming a JSON field of a Go answer type (here the
// subscription's "state", which the portal shows everywhere) makes the
// portal's type-check fail, and the unchanged types pass it. The rename is
// applied where the document is made (contractOptions), exactly as the
// reflector would see a renamed struct tag.
//
// It needs the portal's npm packages (scripts/test.sh installs them first).
func TestContractBindsThePortal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the TypeScript compiler")
	}
	front, err := filepath.Abs("../../frontend")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(front, "node_modules", ".bin")
	if _, err := os.Stat(filepath.Join(bin, "tsc")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the portal's npm packages are missing (scripts/test.sh installs them): %v", err)
		}
		t.Skip("the portal's npm packages are not installed (run scripts/test.sh or npm ci in frontend/)")
	}
	// A copy of the portal's sources and settings, sharing its packages.
	dir := t.TempDir()
	for _, f := range []string{"tsconfig.json", "vite.config.ts", "package.json"} {
		b, err := os.ReadFile(filepath.Join(front, f))
		if err != nil {
			t.Fatal(err)
		}
		must(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	must(t, os.CopyFS(filepath.Join(dir, "src"), os.DirFS(filepath.Join(front, "src"))))
	must(t, os.Symlink(filepath.Join(front, "node_modules"), filepath.Join(dir, "node_modules")))

	typecheck := func(o contractOptions) (string, error) {
		doc, err := portalOpenAPI(o)
		if err != nil {
			t.Fatal(err)
		}
		api := filepath.Join(dir, "src", "shared", "api")
		must(t, os.WriteFile(filepath.Join(api, "portal-openapi.json"), doc, 0o644))
		gen := exec.Command(filepath.Join(bin, "openapi-typescript"), "src/shared/api/portal-openapi.json",
			"-o", "src/shared/api/schema.gen.ts", "--alphabetize")
		gen.Dir = dir
		if out, err := gen.CombinedOutput(); err != nil {
			t.Fatalf("openapi-typescript: %v\n%s", err, out)
		}
		tsc := exec.Command(filepath.Join(bin, "tsc"), "--noEmit", "-p", ".")
		tsc.Dir = dir
		out, err := tsc.CombinedOutput()
		return string(out), err
	}

	if out, err := typecheck(contractOptions{}); err != nil {
		t.Fatalf("the portal does not type-check against the current contract: %v\n%s", err, out)
	}
	out, err := typecheck(contractOptions{renames: map[string]string{"Subscription.state": "status"}})
	if err == nil {
		t.Fatal("renaming the subscription's state in the Go answer type left the portal's type-check passing: the portal does not read its types from the contract")
	}
	if !strings.Contains(out, "'state'") && !strings.Contains(out, `"state"`) && !strings.Contains(out, ".state") {
		t.Fatalf("the type-check failed, but not on the renamed field:\n%s", out)
	}
	t.Logf("the portal's type-check, after renaming Subscription.state:\n%.1500s", out)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
