package vehicle

import "testing"

func TestModes(t *testing.T) {
	for _, tc := range []struct {
		ap     Autopilot
		name   string
		custom uint32
		p2, p3 float32
	}{
		{ArduPilot, "STABILIZE", 0, 0, 0},
		{ArduPilot, "GUIDED", 4, 4, 0},
		{ArduPilot, "LOITER", 5, 5, 0},
		{ArduPilot, "RTL", 6, 6, 0},
		{ArduPilot, "LAND", 9, 9, 0},
		{ArduPilot, "SMART_RTL", 21, 21, 0},
		{PX4, "MANUAL", 65536, 1, 0},
		{PX4, "POSCTL", 196608, 3, 0},
		{PX4, "OFFBOARD", 393216, 6, 0},
		{PX4, "STABILIZED", 458752, 7, 0},
		{PX4, "AUTO.TAKEOFF", 33816576, 4, 2},
		{PX4, "AUTO.LOITER", 50593792, 4, 3},
		{PX4, "AUTO.MISSION", 67371008, 4, 4},
		{PX4, "AUTO.RTL", 84148224, 4, 5},
		{PX4, "AUTO.LAND", 100925440, 4, 6},
		{PX4, "AUTO.PRECLAND", 151257088, 4, 9},
	} {
		t.Run(tc.ap.String()+"/"+tc.name, func(t *testing.T) {
			cm, err := CustomMode(tc.ap, tc.name)
			if err != nil || cm != tc.custom {
				t.Fatalf("CustomMode(%v, %q) = %d, %v; want %d", tc.ap, tc.name, cm, err, tc.custom)
			}
			if got := ModeName(tc.ap, tc.custom); got != tc.name {
				t.Fatalf("ModeName(%v, %d) = %q, want %q", tc.ap, tc.custom, got, tc.name)
			}
			p1, p2, p3, err := setModeParams(tc.ap, tc.name)
			if err != nil || p1 != 1 || p2 != tc.p2 || p3 != tc.p3 {
				t.Fatalf("setModeParams = %v %v %v %v, want 1 %v %v", p1, p2, p3, err, tc.p2, tc.p3)
			}
		})
	}
	if _, err := CustomMode(ArduPilot, "AUTO.MISSION"); err == nil {
		t.Error("CustomMode(ArduPilot, AUTO.MISSION) succeeded, want an error")
	}
	if _, err := CustomMode(AutopilotUnknown, "LOITER"); err == nil {
		t.Error("CustomMode(unknown, LOITER) succeeded, want an error")
	}
	if got := ModeName(ArduPilot, 8); got != "MODE(8)" {
		t.Errorf("ModeName(ArduPilot, 8) = %q, want MODE(8)", got)
	}
	if got, _ := CustomMode(ArduPilot, " loiter "); got != 5 {
		t.Errorf("CustomMode is not case insensitive: %d", got)
	}
	if n := ModeNames(ArduPilot); n[0] != "STABILIZE" || n[len(n)-1] != "TURTLE" {
		t.Errorf("ModeNames(ArduPilot) = %v, want STABILIZE .. TURTLE", n)
	}
}
