package model

import (
	"fmt"
	"time"
)

// dateDetail is the detail of an unparsable date.
const dateDetail = "is not a date (YYYY-MM-DD) or an RFC 3339 time"

// responseTimeLayout renders response timestamps: RFC 3339 in UTC with milliseconds,
// e.g. 2023-10-10T13:18:37.270Z.
const responseTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// ParseDate parses YYYY-MM-DD (00:00:00 UTC) or RFC 3339 (with optional fractional
// seconds; the separator "T" and the zone "Z" may be lower case, as RFC 3339 section
// 5.6 allows). The result is in UTC.
func ParseDate(s string) (time.Time, error) {
	if len(s) == len(time.DateOnly) {
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			return t.UTC(), nil
		}
	}
	t, err := time.Parse(time.RFC3339Nano, upperTZ(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("%q %s", ClipInput(s), dateDetail)
	}
	return t.UTC(), nil
}

// upperTZ returns s with a lower-case date-time separator "t" (after YYYY-MM-DD) and
// a lower-case zone "z" (last) in upper case; time.Parse accepts only upper case.
func upperTZ(s string) string {
	if len(s) <= len(time.DateOnly) || (s[len(time.DateOnly)] != 't' && s[len(s)-1] != 'z') {
		return s
	}
	b := []byte(s)
	if b[len(time.DateOnly)] == 't' {
		b[len(time.DateOnly)] = 'T'
	}
	if b[len(b)-1] == 'z' {
		b[len(b)-1] = 'Z'
	}
	return string(b)
}

// FormatDate renders a date of a policy or a bundle: RFC 3339 in UTC with as many
// fractional digits as needed. ParseDate reads it back to an equal time.
func FormatDate(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// responseTime renders a response timestamp, or nil (JSON null) for the zero time.
func responseTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(responseTimeLayout)
	return &s
}
