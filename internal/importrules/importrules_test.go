package importrules

import (
	"strings"
	"testing"
)

// TestModule checks every package of the module against Table: the one
// import-rule test of the project (it replaced a deps_test.go per package).
func TestModule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	module, pkgs, err := Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 30 {
		t.Fatalf("go list found %d packages of %s; the check would prove little", len(pkgs), module)
	}
	for _, err := range Check(module, pkgs, Table()) {
		t.Error(err)
	}
}

// TestCheck feeds the check forbidden edges and wants each named, so that
// TestModule passing means something.
func TestCheck(t *testing.T) {
	const m = "example.org/dock-agent"
	tests := []struct {
		name string
		pkg  Package
		want []string // substrings of the errors, in order; none for a clean package
	}{
		{"dock imports only what it may", Package{ImportPath: m + "/dock", Imports: []string{m + "/config", "fmt"}, Deps: []string{m + "/config", "fmt"}}, nil},
		{"dock imports telemetry", Package{ImportPath: m + "/dock", Imports: []string{m + "/telemetry"}, Deps: []string{m + "/telemetry"}},
			[]string{"dock imports telemetry: not among the packages it may import (config, dock/route, dock/fault)", "dock depends on telemetry: telemetry imports dock"}},
		{"dock reaches serial through a dependency", Package{ImportPath: m + "/dock/sortie", Imports: []string{m + "/dock"}, Deps: []string{m + "/dock", "go.bug.st/serial/unixutils"}},
			[]string{"dock/sortie depends on go.bug.st/serial/unixutils: serial ports are opened by the app"}},
		{"dock imports net directly", Package{ImportPath: m + "/dock", Imports: []string{"net/netip"}, Deps: []string{"net/netip"}},
			[]string{"dock imports net/netip: dock does no networking"}},
		{"config may use net through a dependency of dock", Package{ImportPath: m + "/dock", Imports: []string{m + "/config"}, Deps: []string{m + "/config", "net/url"}}, nil},
		{"mavlink imports internal", Package{ImportPath: m + "/mavlink/router", Imports: []string{m + "/mavlink", m + "/internal/rawio"}, Deps: []string{m + "/mavlink", m + "/internal/rawio"}},
			[]string{"mavlink/router imports internal/rawio: not among the packages it may import (mavlink)", "mavlink/router depends on internal/rawio: mavlink imports nothing of ours"}},
		{"telemetry reaches internal through a dependency", Package{ImportPath: m + "/telemetry", Imports: []string{m + "/config"}, Deps: []string{m + "/config", m + "/internal/rawio"}},
			[]string{"telemetry depends on internal/rawio: the app injects the broker dialer"}},
		{"a driver under rs485 imports dock", Package{ImportPath: m + "/rs485/weatherstation", Imports: []string{m + "/dock"}, Deps: []string{m + "/dock"}},
			[]string{"rs485/weatherstation imports dock: not among", "rs485/weatherstation depends on dock: a driver feeds plain values"}},
		{"the agent pulls in a fake", Package{ImportPath: m + "/cmd/agent/app", Imports: []string{m + "/dock/docktest"}, Deps: []string{m + "/dock/docktest", "testing"}},
			[]string{"cmd/agent/app depends on dock/docktest: fake vehicle", "cmd/agent/app depends on testing: test code in the daemon"}},
		{"the standard library's internal packages are not ours", Package{ImportPath: m + "/mavlink", Imports: []string{"fmt"}, Deps: []string{"fmt", "internal/abi"}}, nil},
		{"a package no rule covers", Package{ImportPath: m + "/gadgets"}, []string{"gadgets: no import rule covers it"}},
		{"outside the module", Package{ImportPath: "example.org/other/dock", Imports: []string{"example.org/other/telemetry"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := Check(m, []Package{tt.pkg}, Table())
			if len(errs) != len(tt.want) {
				t.Fatalf("Check() = %v, want %d errors containing %q", errs, len(tt.want), tt.want)
			}
			for i, err := range errs {
				if !strings.Contains(err.Error(), tt.want[i]) {
					t.Errorf("Check() error %d = %q, want it to contain %q", i, err, tt.want[i])
				}
			}
		})
	}
}

func TestRuleFor(t *testing.T) {
	rules := []Rule{{Pkg: "mavlink/..."}, {Pkg: "mavlink/router"}, {Pkg: "cmd/agent/..."}}
	for _, tt := range []struct {
		name, want string
		ok         bool
	}{
		{"mavlink/router", "mavlink/router", true},
		{"mavlink/tlog", "mavlink/...", true},
		{"mavlink", "mavlink/...", true},
		{"cmd/agent/app", "cmd/agent/...", true},
		{"cmd/agentx", "", false},
		{"dock", "", false},
	} {
		r, ok := ruleFor(tt.name, rules)
		if ok != tt.ok || r.Pkg != tt.want {
			t.Errorf("ruleFor(%q) = %q, %v, want %q, %v", tt.name, r.Pkg, ok, tt.want, tt.ok)
		}
	}
}
