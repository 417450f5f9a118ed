package transport

import (
	"testing"
	"time"
)

func TestBackoffPolicy(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name     string
		b        Backoff
		failures int
		reset    bool // Reset before the last failure
		want     time.Duration
	}{
		{"first wait is Min", Backoff{Min: 100 * ms, Max: 5 * time.Second}, 1, false, 100 * ms},
		{"doubles", Backoff{Min: 100 * ms, Max: 5 * time.Second}, 4, false, 800 * ms},
		{"capped at Max", Backoff{Min: 100 * ms, Max: 5 * time.Second}, 10, false, 5 * time.Second},
		{"reset starts over", Backoff{Min: 100 * ms, Max: 5 * time.Second}, 6, true, 100 * ms},
		{"zero value uses the defaults", Backoff{}, 1, false, DefaultMinBackoff},
		{"zero value capped at the default", Backoff{}, 20, false, DefaultMaxBackoff},
		{"Max below Min waits Min", Backoff{Min: time.Second, Max: 10 * ms}, 3, false, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.b
			var got time.Duration
			for i := range tt.failures {
				if tt.reset && i == tt.failures-1 {
					b.Reset()
				}
				got = b.Failed()
			}
			if got != tt.want {
				t.Errorf("Failed() after %d failures = %v, want %v", tt.failures, got, tt.want)
			}
		})
	}
}
