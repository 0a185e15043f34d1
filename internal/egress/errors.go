package egress

import (
	"errors"
	"fmt"
)

// Categories of failure, the only words about a provider a tenant sees.
// "provider answered <status>" completes the list.
const (
	NotAllowed  = "address not allowed"
	Unreachable = "provider unreachable"
	TimedOut    = "provider timed out"
	Invalid     = "invalid response"
	TooLarge    = "response too large"
	Failed      = "provider failed" // anything else
)

// Error is a failed call to a tenant-chosen URL. Category is safe to show
// the tenant; Error() adds the detail (remote body, dial error) and is
// for the server log only.
type Error struct {
	Category string
	Status   int // the provider's HTTP status, when it answered
	err      error
}

func (e *Error) Error() string {
	if e.err == nil {
		return e.Category
	}
	return e.Category + ": " + e.err.Error()
}

func (e *Error) Unwrap() error { return e.err }

// InvalidResponse marks err, about an answer that could not be used, as
// an invalid response. Its text may quote the answer: it stays in the log.
func InvalidResponse(format string, args ...any) error {
	return &Error{Category: Invalid, err: fmt.Errorf(format, args...)}
}

// Category returns the tenant-safe category of err: that of the first
// *Error in its chain, else Failed.
func Category(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Category
	}
	return Failed
}

// Public returns an error whose text is only err's category, for
// anything a tenant may read (API answers, stored rows).
func Public(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	status := 0
	if errors.As(err, &e) {
		status = e.Status
	}
	return &Error{Category: Category(err), Status: status}
}
