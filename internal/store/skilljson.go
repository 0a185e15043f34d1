package store

import (
	"errors"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the skill as encoding/json encodes it (the same
// fields, order, escaping and number formats), without reflection: a list
// page of skills spent more of the server's time in encoding/json than
// PostgreSQL spent finding the rows. TestSkillAppendJSON holds it to
// encoding/json's bytes for varied skills, so the API's skill object
// cannot drift from the struct tags above.
func (s *Skill) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = appendQuoted(b, s.ID.String())
	b = append(b, `,"name":`...)
	b = AppendJSONString(b, s.Name)
	b = append(b, `,"title":`...)
	b = AppendJSONString(b, s.Title)
	b = append(b, `,"description":`...)
	b = AppendJSONString(b, s.Description)
	b = append(b, `,"category":`...)
	b = AppendJSONString(b, s.Category)
	b = append(b, `,"tags":`...)
	if s.Tags == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, t := range s.Tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, t)
		}
		b = append(b, ']')
	}
	b = append(b, `,"status":`...)
	b = AppendJSONString(b, s.Status)
	b = append(b, `,"visibility":`...)
	b = AppendJSONString(b, s.Visibility)
	b = append(b, `,"author_id":`...)
	b = appendQuoted(b, s.AuthorID.String())
	b = append(b, `,"author":`...)
	b = AppendJSONString(b, s.AuthorEmail)
	b = append(b, `,"latest_version":`...)
	b = strconv.AppendInt(b, int64(s.LatestVersion), 10)
	b = append(b, `,"published_version":`...)
	b = appendIntPtr(b, s.PublishedVersion)
	if s.ForkOf != nil {
		b = append(b, `,"fork_of":`...)
		b = AppendJSONString(b, *s.ForkOf)
	}
	if s.ForkOfDigest != nil {
		b = append(b, `,"fork_of_digest":`...)
		b = AppendJSONString(b, *s.ForkOfDigest)
	}
	b = append(b, `,"rating_count":`...)
	b = strconv.AppendInt(b, int64(s.RatingCount), 10)
	b = append(b, `,"rating_average":`...)
	b, err := appendFloat(b, s.RatingAverage)
	if err != nil {
		return b, err
	}
	b = append(b, `,"installs":`...)
	b = strconv.AppendInt(b, s.Installs, 10)
	b = append(b, `,"downloads":`...)
	b = strconv.AppendInt(b, s.Downloads, 10)
	b = append(b, `,"views":`...)
	b = strconv.AppendInt(b, s.Views, 10)
	b = append(b, `,"invocations":`...)
	b = strconv.AppendInt(b, s.Invocations, 10)
	b = append(b, `,"created_at":`...)
	if b, err = appendTime(b, s.CreatedAt); err != nil {
		return b, err
	}
	b = append(b, `,"updated_at":`...)
	if b, err = appendTime(b, s.UpdatedAt); err != nil {
		return b, err
	}
	b = append(b, `,"published_at":`...)
	if s.PublishedAt == nil {
		b = append(b, "null"...)
	} else if b, err = appendTime(b, *s.PublishedAt); err != nil {
		return b, err
	}
	b = append(b, `,"pending_version":`...)
	b = appendIntPtr(b, s.PendingVersion)
	return append(b, '}'), nil
}

func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendIntPtr(b []byte, n *int) []byte {
	if n == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, int64(*n), 10)
}

// appendTime writes t as time.Time's MarshalJSON does, which refuses
// years it cannot write in RFC 3339.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, errors.New("store: a skill's time has a year outside [0,9999]")
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// appendFloat writes f as encoding/json writes a float64: the shortest
// decimal that reads back as f, in exponent form only for very small or
// large magnitudes, and an error for NaN and infinities.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, errors.New("store: a skill's rating average is not a finite number")
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// 1e-07, not 1e-07's padded exponent: encoding/json writes 1e-7.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string escaped as encoding/json
// escapes it by default: quotes, backslashes and control characters, the
// HTML characters <, > and &, U+2028 and U+2029, and each byte of invalid
// UTF-8 as U+FFFD.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
