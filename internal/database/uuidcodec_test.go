package database_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/skillvault/skillvault/internal/database"
)

// TestUUIDsRoundTrip: uuid.UUID values, pointers to them (NULL or not)
// and slices of them go to PostgreSQL and back unchanged, with prepared
// statements and without (PgBouncer's mode), and a NULL refused for a
// plain uuid.UUID is an error, not a zero id.
func TestUUIDsRoundTrip(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	id, other := uuid.New(), uuid.New()
	for _, opt := range []database.Options{{}, {NoPreparedStatements: true}} {
		db := w.pool(t, opt)
		err := db.Read(ctx, database.Scope{TenantID: w.a.ID}, func(q database.Q) error {
			var got, tenant uuid.UUID
			var some, none *uuid.UUID
			var list []uuid.UUID
			var text string
			err := q.QueryRow(ctx, `SELECT $1::uuid, $2::uuid, $3::uuid, $4::uuid[], $1::uuid::text, $tenant::uuid`,
				id, &other, (*uuid.UUID)(nil), []uuid.UUID{id, other}).Scan(&got, &some, &none, &list, &text, &tenant)
			if err != nil {
				t.Fatalf("%+v: %v", opt, err)
			}
			if got != id || some == nil || *some != other || none != nil || len(list) != 2 || list[0] != id || list[1] != other {
				t.Errorf("%+v: got %s %v %v %v", opt, got, some, none, list)
			}
			if text != id.String() || tenant != w.a.ID {
				t.Errorf("%+v: PostgreSQL read %s as %s, tenant %s", opt, id, text, tenant)
			}
			var zero uuid.UUID
			if err := q.QueryRow(ctx, "SELECT NULL::uuid").Scan(&zero); err == nil {
				t.Errorf("%+v: NULL scanned into uuid.UUID as %s, want an error", opt, zero)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestUUIDCodecSkipsText: with the codec, scanning and encoding a
// uuid.UUID copies its 16 bytes, no text form and no allocation; pgx's
// own path through sql.Scanner allocates for every id.
func TestUUIDCodecSkipsText(t *testing.T) {
	id := uuid.New()
	for _, c := range []struct {
		name   string
		m      *pgtype.Map
		allocs bool
	}{
		{"registered", database.UUIDTypeMapForTest(), false},
		{"pgx's default", pgtype.NewMap(), true},
	} {
		var got uuid.UUID
		plan := c.m.PlanScan(pgtype.UUIDOID, pgtype.BinaryFormatCode, &got)
		scan := testing.AllocsPerRun(100, func() {
			if err := plan.Scan(id[:], &got); err != nil {
				t.Fatal(err)
			}
		})
		buf := make([]byte, 0, 64)
		var value any = id // boxed once, as pgx has it
		enc := c.m.PlanEncode(pgtype.UUIDOID, pgtype.BinaryFormatCode, value)
		encode := testing.AllocsPerRun(100, func() {
			out, err := enc.Encode(value, buf[:0])
			if err != nil || !bytes.Equal(out, id[:]) {
				t.Fatalf("encoded %x (%v), want %x", out, err, id[:])
			}
		})
		if got != id {
			t.Errorf("%s: scanned %s, want %s", c.name, got, id)
		}
		if (scan > 0 || encode > 0) != c.allocs {
			t.Errorf("%s: %v allocations to scan, %v to encode", c.name, scan, encode)
		}
	}
}
