package service

import "time"

// SetFailureWindow shortens how long repeated authentication failures are
// counted before their summary row is written.
func SetFailureWindow(s *Service, d time.Duration) { s.failures.window = d }
