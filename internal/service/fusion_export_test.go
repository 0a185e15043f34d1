package service

// UseRRF makes a hybrid search fuse its lists by plain reciprocal rank,
// the baseline score-aware fusion is measured against.
func UseRRF(sq SearchQuery) SearchQuery { sq.rrf = true; return sq }
