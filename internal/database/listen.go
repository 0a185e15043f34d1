package database

import (
	"context"
	"fmt"
	"time"
)

// Listen receives the notifications of channel on a connection of its own
// until ctx ends, calling onNotify with each payload. onState reports when
// the connection is up (true) or lost (false); it reconnects with backoff.
// Notifications carry no tenant data: they are ids for cache invalidation.
func (db *DB) Listen(ctx context.Context, channel string, onNotify func(payload string), onState func(up bool)) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, channel, onNotify, onState)
		onState(false)
		if ctx.Err() != nil {
			return
		}
		_ = err
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (db *DB) listenOnce(ctx context.Context, channel string, onNotify func(string), onState func(bool)) error {
	pc, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection leaves the pool for good: a LISTEN must not be handed
	// to requests, and it is closed when listening ends.
	conn := pc.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+quoteIdent(channel)); err != nil {
		return fmt.Errorf("database: listen: %w", err)
	}
	onState(true)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		onNotify(n.Payload)
	}
}

// Notify sends a notification on channel outside any scope.
func (db *DB) Notify(ctx context.Context, channel, payload string) error {
	_, err := db.pool.Exec(ctx, "SELECT pg_notify($1, $2)", channel, payload)
	return err
}

func quoteIdent(s string) string {
	out := []byte{'"'}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			out = append(out, '"')
		}
		out = append(out, s[i])
	}
	return string(append(out, '"'))
}
