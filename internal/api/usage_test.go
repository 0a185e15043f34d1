package api_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/testserver"
)

type ratingJSON struct {
	ID      string `json:"id"`
	UserID  string `json:"user_id"`
	User    string `json:"user"`
	Stars   int    `json:"stars"`
	Comment string `json:"comment"`
}

// TestRatings checks create, change and validation, then 50 concurrent
// ratings by 10 users on one skill: the counters stay exact.
func TestRatings(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	create(t, s, a.Admin.Key, simpleBundle("rated"), "?publish=true")

	r := s.Do("PUT", "/api/v1/skills/rated/rating", a.Member.Key, map[string]any{"stars": 2, "comment": " meh "})
	wantStatus(t, r, 200)
	var res struct {
		Rating        ratingJSON `json:"rating"`
		RatingCount   int        `json:"rating_count"`
		RatingAverage float64    `json:"rating_average"`
	}
	r.JSON(t, &res)
	if res.Rating.Stars != 2 || res.Rating.Comment != "meh" || res.RatingCount != 1 || res.RatingAverage != 2 {
		t.Fatalf("first rating %s", r.Body)
	}
	first := res.Rating.ID
	r = s.Do("PUT", "/api/v1/skills/rated/rating", a.Member.Key, map[string]any{"stars": 5})
	wantStatus(t, r, 200)
	r.JSON(t, &res)
	if res.Rating.ID != first || res.Rating.Stars != 5 || res.RatingCount != 1 || res.RatingAverage != 5 {
		t.Fatalf("changed rating %s", r.Body)
	}
	for _, bad := range []map[string]any{{"stars": 0}, {"stars": 6}, {"stars": -1}, {}, {"stars": 3, "comment": strings.Repeat("x", 4001)}, {"stars": 3, "extra": 1}, {"stars": "5"}} {
		wantProblem(t, s.Do("PUT", "/api/v1/skills/rated/rating", a.Member.Key, bad), 400, "/problems/invalid")
	}
	wantProblem(t, s.Do("PUT", "/api/v1/skills/nosuch/rating", a.Member.Key, map[string]any{"stars": 3}), 404, "/problems/not-found")

	// 10 users, each rating 5 times in a row, all users at once.
	users := make([]testserver.User, 10)
	for i := range users {
		users[i] = s.User(a.ID, fmt.Sprintf("rater%d@acme.example", i), "member", "read", "write")
	}
	final := make([]int, len(users))
	var wg sync.WaitGroup
	errs := make(chan string, 50)
	for i, u := range users {
		wg.Go(func() {
			for j := range 5 {
				stars := 1 + (i*7+j*3)%5
				final[i] = stars
				r := s.Do("PUT", "/api/v1/skills/rated/rating", u.Key, map[string]any{"stars": stars})
				if r.Status != 200 {
					errs <- fmt.Sprintf("%d %s", r.Status, r.Body)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	count, sum := 1, 5 // the member's rating
	for _, f := range final {
		count++
		sum += f
	}
	sk := getSkill(t, s, a.Admin.Key, "rated")
	if sk.RatingCount != count || sk.RatingAverage != float64(sum)/float64(count) {
		t.Fatalf("skill has %d ratings averaging %v; want %d averaging %v", sk.RatingCount, sk.RatingAverage, count, float64(sum)/float64(count))
	}
	var st struct {
		RatingCount int     `json:"rating_count"`
		RatingAvg   float64 `json:"rating_average"`
	}
	getJSON(t, s, a.Admin.Key, "/api/v1/skills/rated/stats", &st)
	if st.RatingCount != count || st.RatingAvg != sk.RatingAverage {
		t.Errorf("stats %+v", st)
	}
	// The cached counters equal the ratings table.
	conn := dbtest.Connect(t, s.Env.AdminURL)
	var n, total, cachedN, cachedSum int
	err := conn.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM ratings r WHERE r.skill_id = s.id), (SELECT sum(stars) FROM ratings r WHERE r.skill_id = s.id),
		rating_count, rating_sum FROM skills s WHERE tenant_id = $1 AND name = 'rated'`, a.ID).Scan(&n, &total, &cachedN, &cachedSum)
	if err != nil {
		t.Fatal(err)
	}
	if n != count || total != sum || cachedN != n || cachedSum != total {
		t.Errorf("table %d/%d, cached %d/%d, want %d/%d", n, total, cachedN, cachedSum, count, sum)
	}
	// Every rating, once, through the cursor.
	all := walk(t, s, a.Member.Key, "/api/v1/skills/rated/ratings", 3, func(r ratingJSON) string { return r.ID })
	if len(all) != count {
		t.Fatalf("listed %d ratings, want %d", len(all), count)
	}
	byUser := map[string]int{}
	for _, r := range all {
		byUser[r.User] = r.Stars
	}
	for i, u := range users {
		if byUser[u.Email] != final[i] {
			t.Errorf("%s: listed %d stars, last sent %d", u.Email, byUser[u.Email], final[i])
		}
	}
}

type usageResult struct {
	Accepted int `json:"accepted"`
	Rejected []struct {
		Index  int    `json:"index"`
		Skill  string `json:"skill"`
		Reason string `json:"reason"`
	} `json:"rejected"`
}

type statsJSON struct {
	Skill       string `json:"skill"`
	Installs    int64  `json:"installs"`
	Downloads   int64  `json:"downloads"`
	Views       int64  `json:"views"`
	Invocations int64  `json:"invocations"`
	Total       int64  `json:"total"`
	From        string `json:"from"`
	To          string `json:"to"`
	InRange     int64  `json:"events_in_range"`
	UniqueUsers int64  `json:"unique_users_in_range"`
	Daily       []struct {
		Day   string `json:"day"`
		Event string `json:"event"`
		Count int64  `json:"count"`
	} `json:"daily"`
}

func TestUsage(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	create(t, s, a.Admin.Key, simpleBundle("used"), "?publish=true")
	create(t, s, a.Admin.Key, simpleBundle("other"), "?publish=true")
	create(t, s, a.Member.Key, simpleBundle("mine"), "?visibility=private")
	peer := s.User(a.ID, "peer@acme.example", "member", "read", "write")

	ev := func(skill, event, source string, extra ...any) map[string]any {
		m := map[string]any{"skill": skill, "event": event, "source": source}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i].(string)] = extra[i+1]
		}
		return m
	}
	batch := []map[string]any{
		ev("used", "install", "cli", "version", 1, "metadata", map[string]any{"agent": "claude"}), // 0 ok
		ev("nosuch", "install", "cli"),                     // 1 unknown skill
		ev("used", "explode", "cli"),                       // 2 bad event
		ev("used", "view", "fax"),                          // 3 bad source
		ev("used", "view", "web", "metadata", []int{1, 2}), // 4 metadata not an object
		ev("used", "view", "web", "metadata", map[string]any{"x": strings.Repeat("y", 5000)}), // 5 metadata too big
		ev("used", "view", "web", "version", -1),                                              // 6 bad version
		ev("used", "view", "web", "version", 99),                                              // 7 no such version
		ev("mine", "view", "web"),                                                             // 8 another member's private skill
		ev("used", "download", "api"),                                                         // 9 ok
		ev("used", "invoke", "mcp"),                                                           // 10 ok
		ev("used", "view", ""),                                                                // 11 ok, source from the credential
		ev("other", "view", "hook"),                                                           // 12 ok
		ev("used", "view", "web", "metadata", map[string]any{"x": "\u0000"}),                  // 13 metadata PostgreSQL cannot store
		ev("", "view", "web"),                                                                 // 14 no skill
	}
	r := s.Do("POST", "/api/v1/usage", peer.Key, map[string]any{"events": batch})
	wantStatus(t, r, 200)
	var res usageResult
	r.JSON(t, &res)
	wantRejected := map[int]string{1: "no skill", 2: "event", 3: "source", 4: "object", 5: "metadata", 6: "version", 7: "version", 8: "no skill", 13: "metadata", 14: "no skill"}
	if res.Accepted != len(batch)-len(wantRejected) || len(res.Rejected) != len(wantRejected) {
		t.Fatalf("accepted %d, rejected %d: %s", res.Accepted, len(res.Rejected), r.Body)
	}
	for _, rj := range res.Rejected {
		if want, ok := wantRejected[rj.Index]; !ok || !strings.Contains(rj.Reason, want) || rj.Skill != batch[rj.Index]["skill"] {
			t.Errorf("rejected %+v, want reason with %q", rj, want)
		}
	}

	// More events, from several users, concurrently: 8 batches of 100.
	users := []testserver.User{a.Admin, a.Member, peer}
	var wg sync.WaitGroup
	var mu sync.Mutex
	want := map[string]int64{"install": 1, "download": 1, "invoke": 1, "view": 1}
	for i := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			var events []map[string]any
			local := map[string]int64{}
			for range 100 {
				kind := []string{"install", "download", "view", "invoke"}[rng.IntN(4)]
				events = append(events, ev("used", kind, "api"))
				local[kind]++
			}
			r := s.Do("POST", "/api/v1/usage", users[i%3].Key, map[string]any{"events": events})
			if r.Status != 200 || !strings.Contains(string(r.Body), `"accepted":100`) {
				t.Errorf("batch %d: %d %s", i, r.Status, r.Body)
				return
			}
			mu.Lock()
			for k, v := range local {
				want[k] += v
			}
			mu.Unlock()
		})
	}
	wg.Wait()

	var st statsJSON
	getJSON(t, s, a.Member.Key, "/api/v1/skills/used/stats", &st)
	// Views are counted apart: uses are installs, downloads and invocations.
	total := want["install"] + want["download"] + want["invoke"]
	if st.Installs != want["install"] || st.Downloads != want["download"] || st.Views != want["view"] || st.Invocations != want["invoke"] || st.Total != total {
		t.Fatalf("stats %+v, want %v", st, want)
	}
	if st.InRange != total || st.UniqueUsers != 3 {
		t.Errorf("in range %d (want %d), unique users %d (want 3)", st.InRange, total, st.UniqueUsers)
	}
	today := time.Now().UTC().Format("2006-01-02")
	daily := map[string]int64{}
	for _, d := range st.Daily {
		if d.Day != today {
			t.Errorf("a day %s in the series", d.Day)
		}
		daily[d.Event] += d.Count
	}
	for k, v := range want {
		if daily[k] != v {
			t.Errorf("daily %s: %d, want %d", k, daily[k], v)
		}
	}
	sk := getSkill(t, s, a.Member.Key, "used")
	if sk.Installs != want["install"] || sk.Views != want["view"] {
		t.Errorf("skill counters %+v", sk)
	}
	var other statsJSON
	getJSON(t, s, a.Member.Key, "/api/v1/skills/other/stats", &other)
	if other.Total != 0 || other.Views != 1 || other.InRange != 0 || other.UniqueUsers != 0 {
		t.Errorf("other's stats %+v", other)
	}

	// Date ranges.
	var past statsJSON
	getJSON(t, s, a.Member.Key, "/api/v1/skills/used/stats?from=2020-01-01&to=2020-02-01", &past)
	if past.InRange != 0 || past.UniqueUsers != 0 || len(past.Daily) != 0 || past.Total != total {
		t.Errorf("a past range: %+v", past)
	}
	tomorrow := time.Now().UTC().Add(24 * time.Hour).Format("2006-01-02")
	var day statsJSON
	getJSON(t, s, a.Member.Key, "/api/v1/skills/used/stats?from="+today+"&to="+tomorrow, &day)
	if day.InRange != total {
		t.Errorf("today's range: %+v", day)
	}
	for _, q := range []string{"?from=yesterday", "?from=2020-01-01&to=2019-01-01", "?from=2020-01-01&to=2022-01-01"} {
		wantProblem(t, s.Do("GET", "/api/v1/skills/used/stats"+q, a.Member.Key, nil), 400, "/problems/invalid")
	}

	// Batch sizes.
	big := make([]map[string]any, 1001)
	for i := range big {
		big[i] = ev("used", "view", "web")
	}
	wantProblem(t, s.Do("POST", "/api/v1/usage", a.Member.Key, map[string]any{"events": big}), 400, "/problems/invalid")
	r = s.Do("POST", "/api/v1/usage", a.Member.Key, map[string]any{"events": big[:1000]})
	wantStatus(t, r, 200)
	r.JSON(t, &res)
	if res.Accepted != 1000 {
		t.Errorf("a batch of 1000: %s", r.Body)
	}
	wantProblem(t, s.Do("POST", "/api/v1/usage", a.Member.Key, map[string]any{"events": []any{}}), 400, "/problems/invalid")
	wantProblem(t, s.Do("POST", "/api/v1/usage", a.Member.Key, map[string]any{"events": []any{map[string]any{"skill": "used", "event": "view", "when": "now"}}}), 400, "/problems/invalid")
	if sk := getSkill(t, s, a.Member.Key, "used"); sk.Views != want["view"]+1000 {
		t.Errorf("views %d after the batch of 1000", sk.Views)
	}
	var got counts
	got = tenantCounts(t, s, a.ID)
	if rows := int(total+want["view"]) + 1 + 1000; got.Usage != rows {
		t.Errorf("%d usage rows, want %d", got.Usage, rows)
	}
}
