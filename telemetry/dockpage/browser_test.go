package dockpage

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockagent/dock-agent/dock"
)

// chromiumPath finds a Chromium to drive: $CHROMIUM, else Debian's
// chromium, else the other usual names; "" when there is none.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestPageInChromium loads the page in a real headless Chromium (driven
// over its DevTools protocol): it shows the dock id, connects its stream,
// draws the map, and shows a state change within 2 s.
func TestPageInChromium(t *testing.T) {
	bin := chromiumPath()
	if bin == "" {
		t.Skip("no chromium found (apt-get install chromium, or set CHROMIUM): the dock page was not tried in a browser")
	}
	r := newRig(t, nil)
	r.run()

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1200, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	if err := chromedp.Do(bctx, chromedp.Navigate(r.srv.URL+"/")); err != nil {
		t.Fatalf("load the page in %s: %v", bin, err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.getElementById("conn").textContent === "live"`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("page stream never live: %v", err)
	}
	eval := func(expr string) any {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[any](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	if id := eval(`document.getElementById("dock-id").textContent`); id != "d-7" {
		t.Errorf("page shows dock %v, want d-7", id)
	}
	circles := eval(`document.querySelectorAll("#map .circle").length`)
	vehicles := eval(`document.querySelectorAll("#map .vehicle").length`)
	routes := eval(`document.querySelectorAll("#map .route").length`)
	if circles != 3.0 || vehicles != 1.0 || routes != 1.0 {
		t.Errorf("map draws %v circles, %v vehicles, %v routes; want 3, 1, 1", circles, vehicles, routes)
	}
	if lid := eval(`document.getElementById("lid").textContent`); lid != "closed" {
		t.Fatalf("lid before the change = %v, want closed", lid)
	}

	r.state.set(func(s *dock.State) {
		s.Lid = dock.LidOpening
		s.Sortie = &dock.SortieRef{ID: "s-1", Kind: dock.KindDispatch, Phase: dock.PhaseLaunching,
			Target: &dock.SortieTarget{Lat: 53.56, Lon: 10.0, AltM: 60}}
	})
	changed := time.Now()
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](
		`document.getElementById("lid").textContent === "opening" && document.querySelectorAll("#map .target").length === 1`,
		chromedp.WithPollingTimeout(2*time.Second), chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		t.Fatalf("page did not show the lid opening and the target within 2s of the change: %v", err)
	}
	t.Logf("state change shown %v after it happened", time.Since(changed).Round(time.Millisecond))
}
