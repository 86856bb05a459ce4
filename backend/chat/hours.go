package chat

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Hours are a channel's opening hours: per weekday, a list of spans in the
// channel's time zone. No spans at all means always open.
type Hours struct {
	Loc  *time.Location
	Days [7][]Span // indexed by time.Weekday
}

// Span is [From, To) in minutes after midnight.
type Span struct{ From, To int }

// Always reports whether there are no restrictions.
func (h Hours) Always() bool {
	for _, d := range h.Days {
		if len(d) > 0 {
			return false
		}
	}
	return true
}

// OpenAt reports whether t falls within the hours.
func (h Hours) OpenAt(t time.Time) bool {
	if h.Always() {
		return true
	}
	t = h.local(t)
	m := t.Hour()*60 + t.Minute()
	for _, s := range h.Days[t.Weekday()] {
		if m >= s.From && m < s.To {
			return true
		}
	}
	return false
}

// local is t on the channel's clock: in Loc, or in UTC when Loc is nil
// (never in whatever zone t happens to carry, such as the server's).
func (h Hours) local(t time.Time) time.Time {
	if h.Loc != nil {
		return t.In(h.Loc)
	}
	return t.UTC()
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseHours reads a schedule such as
//
//	"mon-fri 08:00-12:00,13:00-17:00; sat 10:00-14:00"
//
// An empty string means always open. loc may be nil (UTC).
func ParseHours(spec string, loc *time.Location) (Hours, error) {
	h := Hours{Loc: loc}
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return h, nil
	}
	for _, part := range strings.Split(spec, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		days, spans, ok := strings.Cut(part, " ")
		if !ok {
			return h, fmt.Errorf("hours %q: want \"<days> <from>-<to>[,...]\"", part)
		}
		ds, err := parseDays(days)
		if err != nil {
			return h, err
		}
		for _, sp := range strings.Split(strings.TrimSpace(spans), ",") {
			from, to, ok := strings.Cut(strings.TrimSpace(sp), "-")
			if !ok {
				return h, fmt.Errorf("hours %q: want <from>-<to>", sp)
			}
			f, err := parseClock(from)
			if err != nil {
				return h, err
			}
			tt, err := parseClock(to)
			if err != nil {
				return h, err
			}
			if tt <= f {
				return h, fmt.Errorf("hours %q: end before start", sp)
			}
			for _, d := range ds {
				h.Days[d] = append(h.Days[d], Span{f, tt})
			}
		}
	}
	return h, nil
}

// String writes the hours back in ParseHours' form, one day at a time.
func (h Hours) String() string {
	var parts []string
	for d := 1; d <= 7; d++ {
		wd := d % 7
		if len(h.Days[wd]) == 0 {
			continue
		}
		var sp []string
		for _, s := range h.Days[wd] {
			sp = append(sp, fmt.Sprintf("%02d:%02d-%02d:%02d", s.From/60, s.From%60, s.To/60, s.To%60))
		}
		parts = append(parts, dayNames[wd]+" "+strings.Join(sp, ","))
	}
	return strings.Join(parts, "; ")
}

func parseDays(s string) ([]time.Weekday, error) {
	var out []time.Weekday
	for _, r := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(r, "-")
		ai, err := dayIndex(a)
		if err != nil {
			return nil, err
		}
		if !isRange {
			out = append(out, time.Weekday(ai))
			continue
		}
		bi, err := dayIndex(b)
		if err != nil {
			return nil, err
		}
		for i := ai; ; i = (i + 1) % 7 {
			out = append(out, time.Weekday(i))
			if i == bi {
				break
			}
		}
	}
	return out, nil
}

func dayIndex(s string) (int, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, n := range dayNames {
		if n == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("hours: unknown day %q (use mon, tue, ...)", s)
}

func parseClock(s string) (int, error) {
	hh, mm, ok := strings.Cut(strings.TrimSpace(s), ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || err1 != nil || err2 != nil || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("hours: bad time %q (want HH:MM)", s)
	}
	return h*60 + m, nil
}
