package chat

import (
	"reflect"
	"testing"
	"time"
)

func TestParseHoursRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"mon-fri 08:00-12:00,13:00-17:00", "mon 08:00-12:00,13:00-17:00; tue 08:00-12:00,13:00-17:00; wed 08:00-12:00,13:00-17:00; thu 08:00-12:00,13:00-17:00; fri 08:00-12:00,13:00-17:00"},
		{"mon-fri 08:00-12:00,13:00-17:00; sat 10:00-14:00", "mon 08:00-12:00,13:00-17:00; tue 08:00-12:00,13:00-17:00; wed 08:00-12:00,13:00-17:00; thu 08:00-12:00,13:00-17:00; fri 08:00-12:00,13:00-17:00; sat 10:00-14:00"},
		{"sun 00:00-24:00", "sun 00:00-24:00"},
		{"Sat-Mon 9:05-9:30", "mon 09:05-09:30; sat 09:05-09:30; sun 09:05-09:30"}, // wraps; written Monday first
		{"tue,thu 10:00-11:00;", "tue 10:00-11:00; thu 10:00-11:00"},
		{" wed  07:30 - 08:15 , 20:00-21:00 ", "wed 07:30-08:15,20:00-21:00"},
		{"fri-fri 12:00-13:00", "fri 12:00-13:00"},
	}
	for _, tc := range tests {
		h, err := ParseHours(tc.in, nil)
		if err != nil {
			t.Errorf("ParseHours(%q): %v", tc.in, err)
			continue
		}
		if got := h.String(); got != tc.want {
			t.Errorf("ParseHours(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
		// The written form reads back to the same hours.
		again, err := ParseHours(h.String(), nil)
		if err != nil || !reflect.DeepEqual(again.Days, h.Days) {
			t.Errorf("round trip of %q: %v, %v != %v", tc.in, err, again.Days, h.Days)
		}
		if h.Always() != (tc.want == "") {
			t.Errorf("ParseHours(%q).Always() = %v", tc.in, h.Always())
		}
	}
}

func TestParseHoursErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"mon-fri",               // no spans
		"mon-fri 08:00",         // no end
		"funday 08:00-09:00",    // unknown day
		"mon-xyz 08:00-09:00",   // unknown end day
		"mon- 08:00-09:00",      // open range
		"mon,,tue 08:00-09:00",  // empty day
		"mon 8-9",               // no minutes
		"mon 08:00-08:00",       // empty span
		"mon 17:00-08:00",       // end before start
		"mon 25:00-26:00",       // no such hour
		"mon 08:60-09:00",       // no such minute
		"mon 00:00-24:01",       // past midnight
		"mon 08:00-xx:00",       // not a number
		"mon 08:00-09:00,",      // trailing empty span
		"mon 08:00-09:00; tue9", // second part malformed
	} {
		if h, err := ParseHours(in, nil); err == nil {
			t.Errorf("ParseHours(%q) = %q, want an error", in, h)
		}
	}
}

func TestOpenAt(t *testing.T) {
	t.Parallel()
	stockholm, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	office, err := ParseHours("mon-fri 08:00-12:00,13:00-17:00", stockholm)
	if err != nil {
		t.Fatal(err)
	}
	weekend, err := ParseHours("sat-mon 22:00-24:00", nil) // nil: UTC
	if err != nil {
		t.Fatal(err)
	}
	// Monday 3 March 2025; Stockholm is UTC+1 in winter, UTC+2 from 30 March.
	sthlm := func(day, hh, mm int) time.Time { return time.Date(2025, time.March, day, hh, mm, 0, 0, stockholm) }
	utc := func(day, hh, mm int) time.Time { return time.Date(2025, time.March, day, hh, mm, 0, 0, time.UTC) }
	tests := []struct {
		name  string
		h     Hours
		at    time.Time
		open  bool
		about string
	}{
		{"office", office, sthlm(3, 8, 0), true, "start is inclusive"},
		{"office", office, sthlm(3, 7, 59), false, "a minute before"},
		{"office", office, sthlm(3, 11, 59), true, "last minute of the morning"},
		{"office", office, sthlm(3, 12, 0), false, "end is exclusive (lunch)"},
		{"office", office, sthlm(3, 13, 0), true, "after lunch"},
		{"office", office, sthlm(3, 17, 0), false, "closing time"},
		{"office", office, sthlm(8, 10, 0), false, "Saturday"},
		{"office", office, utc(3, 7, 0), true, "07:00 UTC is 08:00 in Stockholm"},
		{"office", office, utc(3, 6, 59), false, "06:59 UTC is 07:59 in Stockholm"},
		{"office", office, utc(31, 6, 0), true, "summer time: 06:00 UTC is 08:00"},
		{"office", office, utc(31, 15, 0), false, "summer time: 15:00 UTC is 17:00"},
		{"office", office, time.Date(2025, time.March, 3, 23, 30, 0, 0, time.FixedZone("PST", -8*3600)), true,
			"Monday 23:30 in California is Tuesday 08:30 in Stockholm"},
		{"wrapping days", weekend, utc(8, 22, 0), true, "Saturday"},
		{"wrapping days", weekend, utc(9, 23, 59), true, "Sunday"},
		{"wrapping days", weekend, utc(10, 22, 30), true, "Monday"},
		{"wrapping days", weekend, utc(11, 22, 30), false, "Tuesday"},
		{"wrapping days", weekend, utc(7, 22, 30), false, "Friday"},
		{"wrapping days", weekend, utc(9, 21, 59), false, "before the span"},
		{"nil location means UTC", weekend, time.Date(2025, time.March, 10, 22, 30, 0, 0, time.FixedZone("EET", 2*3600)), false,
			"Monday 22:30 at UTC+2 is 20:30 UTC"},
		{"nil location means UTC", weekend, time.Date(2025, time.March, 11, 1, 0, 0, 0, time.FixedZone("MSK", 3*3600)), true,
			"Tuesday 01:00 at UTC+3 is Monday 22:00 UTC"},
		{"always", Hours{}, utc(9, 3, 0), true, "no spans means always open"},
	}
	for _, tc := range tests {
		if got := tc.h.OpenAt(tc.at); got != tc.open {
			t.Errorf("%s: OpenAt(%v) = %v, want %v (%s)", tc.name, tc.at, got, tc.open, tc.about)
		}
	}
}
