package server_test

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillvault/skillvault/internal/testserver"
)

// readHeaderTimeout is the server's bound on receiving a request's
// headers (Server.Run).
const readHeaderTimeout = 10 * time.Second

// TestSlowClientsAreCutOff opens connections that trickle header lines and
// never finish them (slowloris): the server must close each one when its
// header timeout passes, and keep serving other clients meanwhile.
func TestSlowClientsAreCutOff(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	addr := strings.TrimPrefix(s.URL, "http://")
	const slow = 20
	closed := make([]time.Duration, slow)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range slow {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			opened := time.Now()
			if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")); err != nil {
				return
			}
			// One header byte every 200 ms: never a complete request.
			gone := make(chan struct{})
			go func() {
				buf := make([]byte, 512)
				for {
					if _, err := conn.Read(buf); err != nil {
						close(gone)
						return
					}
				}
			}()
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-gone:
					closed[i] = time.Since(opened)
					return
				case <-tick.C:
					conn.Write([]byte("X"))
				case <-time.After(3 * readHeaderTimeout):
					closed[i] = -1
					return
				}
			}
		}()
	}
	// Meanwhile a normal client is served at once.
	time.Sleep(time.Second)
	for range 5 {
		t0 := time.Now()
		resp, err := http.Get(s.URL + "/healthz")
		if err != nil {
			t.Fatalf("a normal request while slow clients hold connections: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || time.Since(t0) > time.Second {
			t.Errorf("a normal request took %s and got %d while slow clients hold connections", time.Since(t0), resp.StatusCode)
		}
	}
	wg.Wait()
	for i, d := range closed {
		if d < 0 {
			t.Errorf("slow connection %d was still open after %s", i, 3*readHeaderTimeout)
		} else if d < readHeaderTimeout-time.Second || d > readHeaderTimeout+3*time.Second {
			t.Errorf("slow connection %d was closed after %s, want about %s", i, d.Round(time.Millisecond), readHeaderTimeout)
		}
	}
	t.Logf("%d slow connections closed after %s", slow, time.Since(start).Round(time.Millisecond))
}
