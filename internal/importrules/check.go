package importrules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
)

// Package is what the check needs of one package: the fields of the same
// name in `go list -json`.
type Package struct {
	ImportPath string
	Imports    []string // direct imports, test files excluded
	Deps       []string // every dependency, direct or not
}

// Load lists every package of the module rooted at dir with
// `go list -deps -json ./...` and returns the module path and the module's
// own packages (the dependencies outside the module are listed in their
// Deps, not returned).
func Load(dir string) (module string, pkgs []Package, err error) {
	cmd := exec.Command("go", "list", "-m")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", nil, fmt.Errorf("go list -m in %s: %w%s", dir, err, stderr(err))
	}
	module = strings.TrimSpace(string(out))
	cmd = exec.Command("go", "list", "-deps", "-json=ImportPath,Imports,Deps", "./...")
	cmd.Dir = dir
	out, err = cmd.Output()
	if err != nil {
		return "", nil, fmt.Errorf("go list -deps -json ./... in %s: %w%s", dir, err, stderr(err))
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p Package
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", nil, fmt.Errorf("decode go list output: %w", err)
		}
		if p.ImportPath == module || strings.HasPrefix(p.ImportPath, module+"/") {
			pkgs = append(pkgs, p)
		}
	}
	if len(pkgs) == 0 {
		return "", nil, fmt.Errorf("go list in %s found no package of module %s", dir, module)
	}
	return module, pkgs, nil
}

func stderr(err error) string {
	if ee, ok := errors.AsType[*exec.ExitError](err); ok && len(ee.Stderr) > 0 {
		return ": " + strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}

// Check returns one error per broken rule: a package of module with no
// rule, a direct import of ours its rule does not allow, a dependency its
// rule bans. Paths in rules are relative to module.
func Check(module string, pkgs []Package, rules []Rule) []error {
	var errs []error
	rel := func(path string) (string, bool) {
		if path == module {
			return ".", true
		}
		r, ok := strings.CutPrefix(path, module+"/")
		return r, ok
	}
	for _, p := range pkgs {
		name, ours := rel(p.ImportPath)
		if !ours {
			continue
		}
		r, ok := ruleFor(name, rules)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: no import rule covers it (add one to internal/importrules and docs/architecture.md)", name))
			continue
		}
		for _, imp := range p.Imports {
			if d, ours := rel(imp); ours && !allowed(d, r.Ours) && d != name {
				errs = append(errs, fmt.Errorf("%s imports %s: not among the packages it may import (%s)", name, d, list(r.Ours)))
			}
			if why, ok := banned(imp, rel, r.NeverDirect); ok {
				errs = append(errs, fmt.Errorf("%s imports %s: %s", name, imp, why))
			}
		}
		for _, dep := range p.Deps {
			if why, ok := banned(dep, rel, r.Never); ok {
				shown := dep
				if d, ours := rel(dep); ours {
					shown = d
				}
				errs = append(errs, fmt.Errorf("%s depends on %s: %s", name, shown, why))
			}
		}
	}
	return errs
}

// ruleFor picks the most specific rule covering name.
func ruleFor(name string, rules []Rule) (Rule, bool) {
	var best Rule
	bestLen := -1
	for _, r := range rules {
		if r.Pkg == name {
			return r, true
		}
		if tree, ok := strings.CutSuffix(r.Pkg, "/..."); ok && (name == tree || strings.HasPrefix(name, tree+"/")) && len(tree) > bestLen {
			best, bestLen = r, len(tree)
		}
	}
	return best, bestLen >= 0
}

func allowed(name string, ours []string) bool {
	for _, a := range ours {
		if a == "*" || a == name {
			return true
		}
		if tree, ok := strings.CutSuffix(a, "/..."); ok && (name == tree || strings.HasPrefix(name, tree+"/")) {
			return true
		}
	}
	return false
}

// banned reports whether path (a full import path) falls under one of the
// bans, which name packages of ours relative to the module and others in
// full, matching the package and everything below it.
func banned(path string, rel func(string) (string, bool), bans map[string]string) (string, bool) {
	name := path
	if r, ours := rel(path); ours {
		name = r
	} else if strings.HasPrefix(path, "internal/") || strings.HasPrefix(path, "vendor/") {
		// The standard library's own internal packages: never banned, and
		// they would read as ours (a ban on "internal" means our internal/).
		return "", false
	}
	keys := make([]string, 0, len(bans))
	for k := range bans {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the same ban reported for the same path every run
	for _, b := range keys {
		if name == b || strings.HasPrefix(name, b+"/") {
			return bans[b], true
		}
	}
	return "", false
}

func list(ours []string) string {
	if len(ours) == 0 {
		return "none of ours"
	}
	return strings.Join(ours, ", ")
}
