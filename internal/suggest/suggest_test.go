package suggest

import "testing"

func TestClosest(t *testing.T) {
	fields := []string{"host", "port", "user", "password", "database"}
	flags := []string{"config", "headless", "output", "readonly", "purge-volume", "version"}
	for _, tt := range []struct {
		s          string
		candidates []string
		want       string
	}{
		{"hots", fields, "host"},
		{"HOST", fields, "host"},
		{"pasword", fields, "password"},
		{"databse", fields, "database"},
		{"zzzzzz", fields, ""},
		{"hedless", flags, "headless"},
		{"head", flags, "headless"}, // a prefix
		{"ver", flags, "version"},   // a prefix of three
		{"pu", flags, ""},           // too short to be a prefix, too far otherwise
		{"", fields, ""},
	} {
		if got := Closest(tt.s, tt.candidates); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.s, got, tt.want)
		}
	}
}
