package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
)

// User is a person in a tenant.
type User struct {
	ID          uuid.UUID  `json:"id"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	Role        string     `json:"role"`
	Active      bool       `json:"active"`
	CreatedAt   time.Time  `json:"created_at"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
}

func scanUser(r pgx.Row) (User, error) {
	var u User
	err := r.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Active, &u.CreatedAt, &u.LastLoginAt)
	return u, notFound(err)
}

var (
	qUserInsert            = query("UserInsert")
	qUserByID              = query("UserByID")
	qUserByEmail           = query("UserByEmail")
	qUserList              = query("UserList")
	qUserUpdate            = query("UserUpdate")
	qUserCountActiveAdmins = query("UserCountActiveAdmins")
	qUserTouchLogin        = query("UserTouchLogin")
)

func InsertUser(ctx context.Context, q database.Q, email, name, role string) (User, error) {
	return scanUser(q.QueryRow(ctx, qUserInsert, email, name, role))
}

func UserByID(ctx context.Context, q database.Q, id uuid.UUID) (User, error) {
	return scanUser(q.QueryRow(ctx, qUserByID, id))
}

func UserByEmail(ctx context.Context, q database.Q, email string) (User, error) {
	return scanUser(q.QueryRow(ctx, qUserByEmail, email))
}

// ListUsers returns users ordered by email, after the cursor email.
func ListUsers(ctx context.Context, q database.Q, after string, limit int) ([]User, error) {
	rows, err := q.Query(ctx, qUserList, after, limit)
	return collect(rows, err, scanUser)
}

func UpdateUser(ctx context.Context, q database.Q, u User) (User, error) {
	return scanUser(q.QueryRow(ctx, qUserUpdate, u.ID, u.Role, u.Active, u.Name))
}

// CountActiveAdmins counts and locks the tenant's active admins.
func CountActiveAdmins(ctx context.Context, q database.Q) (int, error) {
	var n int
	err := q.QueryRow(ctx, qUserCountActiveAdmins).Scan(&n)
	return n, err
}

func TouchLogin(ctx context.Context, q database.Q, id uuid.UUID) error {
	_, err := q.Exec(ctx, qUserTouchLogin, id)
	return err
}
