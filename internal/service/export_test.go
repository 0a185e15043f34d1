package service

import "time"

// SetFailureWindow shortens how long repeated authentication failures are
// counted before their summary row is written.
func SetFailureWindow(s *Service, d time.Duration) { s.failures.window = d }

// UseRRF makes a hybrid search fuse its lists by plain reciprocal rank,
// the baseline score-aware fusion is measured against.
func UseRRF(sq SearchQuery) SearchQuery { sq.rrf = true; return sq }
