package schedule_test

import (
	"fmt"
	"time"

	"github.com/dockagent/dock-agent/dock/schedule"
)

func ExampleUpcoming() {
	entries, err := schedule.DecodeEntries([]byte(`[
		{"name":"old-town-night","route":"oldtown","when":"every 2h between 20:00 and 05:00","time_zone":"Europe/Berlin"},
		{"name":"match","route":"stadium","when":"2026-12-05 18:30 to 2026-12-05 21:30 every 30m","time_zone":"Europe/Berlin"}]`))
	if err != nil {
		fmt.Println(err)
		return
	}
	loc, _ := time.LoadLocation("Europe/Berlin")
	for _, f := range schedule.Upcoming(entries, time.Date(2026, 12, 5, 18, 0, 0, 0, loc), 6) {
		fmt.Println(f.At.In(loc).Format("15:04"), f.Entry)
	}
	// Output:
	// 18:30 match
	// 19:00 match
	// 19:30 match
	// 20:00 match
	// 20:00 old-town-night
	// 20:30 match
}
